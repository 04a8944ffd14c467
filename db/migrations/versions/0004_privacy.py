"""privacy: privacy_audit (retention runs, exports, erasures) and tickets.purged_at

Retention and the data-subject rights (db/retention.py, db/subjects.py) clear
texts and addresses; the audit of what was done must outlive what it describes,
so it has its own table rather than ticket_audit (which cascades with tickets).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa



revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'privacy_audit',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('subject', sa.String(length=200), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['desk_users.id'], name=op.f('fk_privacy_audit_user_id_desk_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_audit')),
    )
    op.create_index(op.f('ix_privacy_audit_at'), 'privacy_audit', ['at'], unique=False)
    # a nullable column needs no table rebuild on SQLite
    op.add_column('tickets', sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('purged_at')
    op.drop_index(op.f('ix_privacy_audit_at'), table_name='privacy_audit')
    op.drop_table('privacy_audit')
