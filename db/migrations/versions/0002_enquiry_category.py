"""enquiries.category: category of the enquiry's first categorised question

Denormalised for the bilan, which counts enquiries by category: without it,
the bilan must find the first categorised question of every enquiry (a
GROUP BY over all questions, ~3 s at 1M enquiries on PostgreSQL). A trigger
keeps it up to date whoever inserts the questions (repositories, COPY, demo),
so no writer has to change; existing rows are backfilled.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

BACKFILL = """
UPDATE enquiries SET category = (
    SELECT q.category FROM enquiry_questions q
    WHERE q.enquiry_id = enquiries.id AND q.category IS NOT NULL
    ORDER BY q.id LIMIT 1)
WHERE category IS NULL
"""


def upgrade() -> None:
    with op.batch_alter_table('enquiries') as batch:
        batch.add_column(sa.Column('category', sa.String(length=1), nullable=True))
    op.execute(BACKFILL)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("""
CREATE OR REPLACE FUNCTION pcn_enquiry_first_category() RETURNS trigger AS $$
BEGIN
    UPDATE enquiries SET category = NEW.category WHERE id = NEW.enquiry_id AND category IS NULL;
    RETURN NULL;
END $$ LANGUAGE plpgsql
""")
        op.execute("""
CREATE TRIGGER trg_enquiry_first_category AFTER INSERT ON enquiry_questions
FOR EACH ROW WHEN (NEW.category IS NOT NULL) EXECUTE FUNCTION pcn_enquiry_first_category()
""")
    else:
        op.execute("""
CREATE TRIGGER trg_enquiry_first_category AFTER INSERT ON enquiry_questions
FOR EACH ROW WHEN NEW.category IS NOT NULL
BEGIN
    UPDATE enquiries SET category = NEW.category WHERE id = NEW.enquiry_id AND category IS NULL;
END
""")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS trg_enquiry_first_category" +
               (" ON enquiry_questions" if op.get_bind().dialect.name == 'postgresql' else ""))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION IF EXISTS pcn_enquiry_first_category()")
    with op.batch_alter_table('enquiries') as batch:
        batch.drop_column('category')
