"""desk_sessions (the console's login cookie) and desk_login_events (login audit, throttling)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('desk_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['desk_users.id'], name=op.f('fk_desk_sessions_user_id_desk_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_sessions'))
    )
    op.create_index(op.f('ix_desk_sessions_user_id'), 'desk_sessions', ['user_id'], unique=False)
    op.create_table('desk_login_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['desk_users.id'], name=op.f('fk_desk_login_events_user_id_desk_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_login_events'))
    )
    op.create_index(op.f('ix_desk_login_events_at'), 'desk_login_events', ['at'], unique=False)
    op.create_index(op.f('ix_desk_login_events_client'), 'desk_login_events', ['client'], unique=False)
    op.create_index(op.f('ix_desk_login_events_username'), 'desk_login_events', ['username'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_desk_login_events_username'), table_name='desk_login_events')
    op.drop_index(op.f('ix_desk_login_events_client'), table_name='desk_login_events')
    op.drop_index(op.f('ix_desk_login_events_at'), table_name='desk_login_events')
    op.drop_table('desk_login_events')
    op.drop_index(op.f('ix_desk_sessions_user_id'), table_name='desk_sessions')
    op.drop_table('desk_sessions')
