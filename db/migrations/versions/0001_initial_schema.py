"""initial schema: enquiry log, tickets, desk users (docs/ARCHITECTURE.md)

Timestamps are created as DateTime(timezone=True) (timestamptz on PostgreSQL);
db.models.UTCDateTime handles the UTC conversion in Python. Rasa's tracker
table `events` is not managed here.

Revision ID: 0001
Revises: 
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('desk_users',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('role', sa.String(length=16), server_default='agent', nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_desk_users_username'))
    )
    op.create_table('enquiries',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('conversation_id', sa.String(length=255), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('channel', sa.String(length=32), server_default='web', nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('profile', sa.String(length=8), server_default='UNK', nullable=False),
    sa.Column('origin_country', sa.String(length=2), nullable=True),
    sa.Column('origin_group', sa.String(length=32), server_default='UNKNOWN', nullable=False),
    sa.Column('treatment_country', sa.String(length=2), nullable=True),
    sa.Column('outcome', sa.String(length=32), server_default='abandoned', nullable=False),
    sa.Column('feedback_helpful', sa.Boolean(), nullable=True),
    sa.Column('user_turns', sa.Integer(), server_default='0', nullable=False),
    sa.Column('fallback_turns', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enquiries'))
    )
    op.create_index(op.f('ix_enquiries_conversation_id'), 'enquiries', ['conversation_id'], unique=False)
    op.create_index(op.f('ix_enquiries_origin_group'), 'enquiries', ['origin_group'], unique=False)
    op.create_index(op.f('ix_enquiries_outcome'), 'enquiries', ['outcome'], unique=False)
    op.create_index(op.f('ix_enquiries_started_at'), 'enquiries', ['started_at'], unique=False)

    op.create_table('enquiry_questions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('enquiry_id', sa.String(length=36), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('text_redacted', sa.Text(), nullable=True),
    sa.Column('intent', sa.String(length=100), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('question_code', sa.String(length=8), nullable=True),
    sa.Column('category', sa.String(length=1), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['enquiry_id'], ['enquiries.id'], name=op.f('fk_enquiry_questions_enquiry_id_enquiries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enquiry_questions'))
    )
    op.create_index(op.f('ix_enquiry_questions_enquiry_id'), 'enquiry_questions', ['enquiry_id'], unique=False)
    op.create_index(op.f('ix_enquiry_questions_question_code'), 'enquiry_questions', ['question_code'], unique=False)

    op.create_table('tickets',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=False),
    sa.Column('enquiry_id', sa.String(length=36), nullable=True),
    sa.Column('conversation_id', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='new', nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('category', sa.String(length=1), nullable=True),
    sa.Column('question_code', sa.String(length=8), nullable=True),
    sa.Column('profile', sa.String(length=8), server_default='UNK', nullable=False),
    sa.Column('origin_country', sa.String(length=2), nullable=True),
    sa.Column('origin_group', sa.String(length=32), server_default='UNKNOWN', nullable=False),
    sa.Column('treatment_country', sa.String(length=2), nullable=True),
    sa.Column('question_text', sa.Text(), nullable=True),
    sa.Column('contact_email', sa.String(length=320), nullable=True),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('transcript', sa.JSON(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['desk_users.id'], name=op.f('fk_tickets_assignee_id_desk_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['enquiry_id'], ['enquiries.id'], name=op.f('fk_tickets_enquiry_id_enquiries'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_tickets_idempotency_key')),
    sa.UniqueConstraint('reference', name=op.f('uq_tickets_reference'))
    )
    op.create_index(op.f('ix_tickets_assignee_id'), 'tickets', ['assignee_id'], unique=False)
    op.create_index(op.f('ix_tickets_conversation_id'), 'tickets', ['conversation_id'], unique=False)
    op.create_index(op.f('ix_tickets_created_at'), 'tickets', ['created_at'], unique=False)
    op.create_index(op.f('ix_tickets_enquiry_id'), 'tickets', ['enquiry_id'], unique=False)
    op.create_index(op.f('ix_tickets_status'), 'tickets', ['status'], unique=False)

    op.create_table('ticket_audit',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_audit_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['desk_users.id'], name=op.f('fk_ticket_audit_user_id_desk_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_audit'))
    )
    op.create_index(op.f('ix_ticket_audit_ticket_id'), 'ticket_audit', ['ticket_id'], unique=False)

    op.create_table('ticket_messages',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('email_status', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['desk_users.id'], name=op.f('fk_ticket_messages_author_id_desk_users')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_messages_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_messages'))
    )
    op.create_index(op.f('ix_ticket_messages_ticket_id'), 'ticket_messages', ['ticket_id'], unique=False)



def downgrade() -> None:
    op.drop_index(op.f('ix_ticket_messages_ticket_id'), table_name='ticket_messages')

    op.drop_table('ticket_messages')
    op.drop_index(op.f('ix_ticket_audit_ticket_id'), table_name='ticket_audit')

    op.drop_table('ticket_audit')
    op.drop_index(op.f('ix_tickets_status'), table_name='tickets')
    op.drop_index(op.f('ix_tickets_enquiry_id'), table_name='tickets')
    op.drop_index(op.f('ix_tickets_created_at'), table_name='tickets')
    op.drop_index(op.f('ix_tickets_conversation_id'), table_name='tickets')
    op.drop_index(op.f('ix_tickets_assignee_id'), table_name='tickets')

    op.drop_table('tickets')
    op.drop_index(op.f('ix_enquiry_questions_question_code'), table_name='enquiry_questions')
    op.drop_index(op.f('ix_enquiry_questions_enquiry_id'), table_name='enquiry_questions')

    op.drop_table('enquiry_questions')
    op.drop_index(op.f('ix_enquiries_started_at'), table_name='enquiries')
    op.drop_index(op.f('ix_enquiries_outcome'), table_name='enquiries')
    op.drop_index(op.f('ix_enquiries_origin_group'), table_name='enquiries')
    op.drop_index(op.f('ix_enquiries_conversation_id'), table_name='enquiries')

    op.drop_table('enquiries')
    op.drop_table('desk_users')
