"""Campaign read models: actions, targets, counters, cases, timeline, supporters, pledges.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('action_counters',
    sa.Column('action_id', sa.Text(), nullable=False),
    sa.Column('pledges', sa.Integer(), nullable=False),
    sa.Column('letters', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('action_id')
    )
    op.create_table('action_targets',
    sa.Column('action_id', sa.Text(), nullable=False),
    sa.Column('target_id', sa.Text(), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('action_id', 'target_id')
    )
    op.create_table('actions',
    sa.Column('action_id', sa.Text(), nullable=False),
    sa.Column('case_id', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('ua_number', sa.Text(), nullable=False),
    sa.Column('index_number', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('country', sa.Text(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('deadline_on', sa.Date(), nullable=False),
    sa.Column('deadline_timezone', sa.Text(), nullable=False),
    sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('update_number', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('last_position', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('action_id')
    )
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_actions_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_actions_status_country', ['status', 'country'], unique=False)

    op.create_table('case_timeline',
    sa.Column('case_id', sa.Text(), nullable=False),
    sa.Column('development_id', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('occurred', sa.JSON(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('source', sa.JSON(), nullable=False),
    sa.Column('pending_approval', sa.Boolean(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('case_id', 'development_id')
    )
    op.create_table('cases',
    sa.Column('case_id', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('subject_name', sa.Text(), nullable=False),
    sa.Column('subject_kind', sa.Text(), nullable=False),
    sa.Column('country', sa.Text(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('last_position', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_country'), ['country'], unique=False)

    op.create_table('letters_per_target_day',
    sa.Column('action_id', sa.Text(), nullable=False),
    sa.Column('target_id', sa.Text(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('letters', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('action_id', 'target_id', 'day')
    )
    op.create_table('pledges',
    sa.Column('pledge_id', sa.Text(), nullable=False),
    sa.Column('action_id', sa.Text(), nullable=False),
    sa.Column('supporter_id', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('target_ids', sa.JSON(), nullable=False),
    sa.Column('letters_promised', sa.Integer(), nullable=False),
    sa.Column('letters_confirmed', sa.Integer(), nullable=False),
    sa.Column('pledged_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('pledge_id')
    )
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.create_index('ix_pledges_action_status', ['action_id', 'status'], unique=False)
        batch_op.create_index('ix_pledges_status_due_at', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pledges_supporter_id'), ['supporter_id'], unique=False)

    op.create_table('supporters',
    sa.Column('supporter_id', sa.Text(), nullable=False),
    sa.Column('email_index', sa.Text(), nullable=True),
    sa.Column('email_sealed', sa.Text(), nullable=True),
    sa.Column('name_sealed', sa.Text(), nullable=True),
    sa.Column('locale', sa.Text(), nullable=True),
    sa.Column('country', sa.Text(), nullable=True),
    sa.Column('timezone', sa.Text(), nullable=True),
    sa.Column('consented', sa.Boolean(), nullable=False),
    sa.Column('all_actions', sa.Boolean(), nullable=False),
    sa.Column('countries', sa.JSON(), nullable=False),
    sa.Column('case_ids', sa.JSON(), nullable=False),
    sa.Column('unsubscribed', sa.Boolean(), nullable=False),
    sa.Column('suppressed', sa.Text(), nullable=True),
    sa.Column('erased', sa.Boolean(), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('supporter_id'),
    sa.UniqueConstraint('email_index')
    )
    op.create_table('target_letters',
    sa.Column('action_id', sa.Text(), nullable=False),
    sa.Column('target_id', sa.Text(), nullable=False),
    sa.Column('letters', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('action_id', 'target_id')
    )


def downgrade() -> None:
    op.drop_table('target_letters')
    op.drop_table('supporters')
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pledges_supporter_id'))
        batch_op.drop_index('ix_pledges_status_due_at')
        batch_op.drop_index('ix_pledges_action_status')

    op.drop_table('pledges')
    op.drop_table('letters_per_target_day')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_country'))

    op.drop_table('cases')
    op.drop_table('case_timeline')
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index('ix_actions_status_country')
        batch_op.drop_index(batch_op.f('ix_actions_case_id'))

    op.drop_table('actions')
    op.drop_table('action_targets')
    op.drop_table('action_counters')
