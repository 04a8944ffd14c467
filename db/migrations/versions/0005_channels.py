"""channels: e-mail in and out, phone/letter/walk-in entries, what counts as a request

* ``enquiries.bilan_status``: ``request`` when counted by the bilan, else why
  not (core/requests.py); existing rows are classified by the same rule;
* ``tickets.channel``; ``ticket_messages`` get inbound mails (no desk author),
  a Message-ID for threading and flags;
* ``ticket_attachments`` (files received by mail), ``mail_outbox``
  (acknowledgements and replies until sent), ``mail_inbound`` (every mail
  received, once), ``reply_templates`` (canned replies managers edit).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def _backfill_exclusion() -> None:
    """Classify the enquiries already stored (a few per batch: the rule is in Python)."""
    from core.requests import classify

    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT e.id, e.channel, e.conversation_id, "
        "EXISTS (SELECT 1 FROM tickets t WHERE t.enquiry_id = e.id) AS has_ticket FROM enquiries e")).all()
    questions: dict = {}
    for enquiry_id, text, code in conn.execute(sa.text(
            "SELECT enquiry_id, text_redacted, question_code FROM enquiry_questions ORDER BY id")):
        questions.setdefault(enquiry_id, []).append((text, code is not None))
    update = sa.text("UPDATE enquiries SET bilan_status = :x WHERE id = :id")
    params = [{"id": eid, "x": classify(channel=channel, conversation_id=conv, has_ticket=bool(has_ticket),
                                        questions=questions.get(eid, ()))}
              for eid, channel, conv, has_ticket in rows]
    for start in range(0, len(params), 5000):
        conn.execute(update, params[start:start + 5000])


def upgrade() -> None:
    # plain ALTER TABLE (no table rebuild on SQLite: migration 0002's trigger names the table)
    op.add_column('enquiries', sa.Column('bilan_status', sa.String(length=16), server_default='empty', nullable=False))
    _backfill_exclusion()
    op.create_index('ix_enquiries_not_request', 'enquiries', ['id'], unique=False,
                    postgresql_where=sa.text("bilan_status <> 'request'"),
                    sqlite_where=sa.text("bilan_status <> 'request'"))
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('channel', sa.String(length=16), server_default='web', nullable=False))
    with op.batch_alter_table('ticket_messages') as batch:
        batch.alter_column('author_id', existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column('mail_message_id', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('flags', sa.JSON(), nullable=True))
        batch.create_index(batch.f('ix_ticket_messages_mail_message_id'), ['mail_message_id'], unique=False)

    op.create_table('ticket_attachments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['ticket_messages.id'], name=op.f('fk_ticket_attachments_message_id_ticket_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_attachments_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_attachments'))
    )
    op.create_index(op.f('ix_ticket_attachments_message_id'), 'ticket_attachments', ['message_id'], unique=False)
    op.create_index(op.f('ix_ticket_attachments_ticket_id'), 'ticket_attachments', ['ticket_id'], unique=False)

    op.create_table('mail_outbox',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('ticket_message_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('in_reply_to', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_mail_outbox_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_message_id'], ['ticket_messages.id'], name=op.f('fk_mail_outbox_ticket_message_id_ticket_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox')),
    sa.UniqueConstraint('message_id', name=op.f('uq_mail_outbox_message_id'))
    )
    op.create_index(op.f('ix_mail_outbox_next_attempt_at'), 'mail_outbox', ['next_attempt_at'], unique=False)
    op.create_index(op.f('ix_mail_outbox_ticket_id'), 'mail_outbox', ['ticket_id'], unique=False)

    op.create_table('mail_inbound',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('message_key', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('disposition', sa.String(length=16), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_mail_inbound_ticket_id_tickets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_inbound')),
    sa.UniqueConstraint('message_key', name=op.f('uq_mail_inbound_message_key'))
    )
    op.create_index(op.f('ix_mail_inbound_received_at'), 'mail_inbound', ['received_at'], unique=False)

    op.create_table('reply_templates',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('subject', sa.String(length=300), server_default='', nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by'], ['desk_users.id'], name=op.f('fk_reply_templates_updated_by_desk_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reply_templates')),
    sa.UniqueConstraint('code', 'language', name='uq_reply_templates_code_language')
    )


def downgrade() -> None:
    op.drop_table('reply_templates')
    op.drop_index(op.f('ix_mail_inbound_received_at'), table_name='mail_inbound')
    op.drop_table('mail_inbound')
    op.drop_index(op.f('ix_mail_outbox_ticket_id'), table_name='mail_outbox')
    op.drop_index(op.f('ix_mail_outbox_next_attempt_at'), table_name='mail_outbox')
    op.drop_table('mail_outbox')
    op.drop_index(op.f('ix_ticket_attachments_ticket_id'), table_name='ticket_attachments')
    op.drop_index(op.f('ix_ticket_attachments_message_id'), table_name='ticket_attachments')
    op.drop_table('ticket_attachments')
    op.execute("DELETE FROM ticket_messages WHERE author_id IS NULL")  # inbound mails have no desk author
    with op.batch_alter_table('ticket_messages') as batch:
        batch.drop_index(batch.f('ix_ticket_messages_mail_message_id'))
        batch.drop_column('flags')
        batch.drop_column('mail_message_id')
        batch.alter_column('author_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('channel')
    op.drop_index('ix_enquiries_not_request', table_name='enquiries')
    op.drop_column('enquiries', 'bilan_status')  # SQLite >= 3.35 drops a column in place
