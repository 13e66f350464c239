"""audit trail: hash version 2 covers the case and the actor's account; every chain re-anchored

Revision ID: 4b8e2d7c9f13
Revises: 8c4e1f2a6b30
Create Date: 2026-12-06 10:00:00.000000

Version 1 of an audit entry's hash left ``case_id`` and ``actor_id`` out. The entries written so
far keep their version-1 hashes (``hash_version`` 1): recomputing them would rewrite the history
that court bundles already hold, and the old hashes are what those witnesses can check. Every
chain instead gets one new entry, ``audit_reanchored``, by "system", hashed with version 2 and
linked to the chain's last version-1 entry; every entry after it is version 2. ``odr audit
verify`` refuses a version-1 entry after a version-2 one, and a change of version anywhere but
at this entry.

The hash formula is written out here (not imported from ``odr.cases.audit``) so that this
migration computes the same hashes whatever later code does.
"""
import hashlib
import json
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4b8e2d7c9f13'
down_revision = '8c4e1f2a6b30'
branch_labels = None
depends_on = None

REANCHORED = 'audit_reanchored'
#: Chains read per round: each round's inserts come after its reads (SQLite must not see a table
#: change under an open read of it), and the reads walk the (chain, seq) index once overall.
PAGE = 1000

event = sa.table(
    'event',
    sa.column('id', sa.Integer), sa.column('chain', sa.String), sa.column('seq', sa.Integer),
    sa.column('case_id', sa.Integer), sa.column('actor_id', sa.Integer), sa.column('actor', sa.String),
    sa.column('action', sa.String), sa.column('payload', sa.JSON), sa.column('created_at', sa.DateTime),
    sa.column('prev_hash', sa.String), sa.column('hash', sa.String), sa.column('hash_version', sa.SmallInteger),
)


def _hash_v2(fields: dict) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode()
    return hashlib.sha256(canonical).hexdigest()


def _case_id(chain: str):
    prefix, _, number = chain.partition(':')
    return int(number) if prefix == 'case' and number.isdigit() else None


def upgrade():
    # Every entry so far was hashed with version 1; new ones say which version they use.
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hash_version', sa.SmallInteger(), nullable=False, server_default='1'))
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.alter_column('hash_version', server_default=None)

    _reanchor(op.get_bind())


def _reanchor(conn):
    """Append the version-2 ``audit_reanchored`` entry to every chain, linked to its last entry."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    time = now.isoformat(timespec='microseconds') + 'Z'
    after = ''
    while True:
        chains = conn.scalars(sa.select(event.c.chain).where(event.c.chain > after).group_by(event.c.chain)
                              .order_by(event.c.chain).limit(PAGE)).all()
        if not chains:
            break
        last, other = event.alias('last'), event.alias('other')
        last_seq = sa.select(sa.func.max(other.c.seq)).where(other.c.chain == last.c.chain).scalar_subquery()
        heads = conn.execute(sa.select(last.c.chain, last.c.seq, last.c.hash)
                             .where(last.c.chain.in_(chains), last.c.seq == last_seq)).all()
        rows = []
        for chain, seq, head in heads:
            fields = {
                'v': 2, 'chain': chain, 'seq': seq + 1, 'case_id': _case_id(chain), 'actor_id': None,
                'actor': 'system', 'action': REANCHORED,
                'payload': {'hash_version': 2, 'previous_version': 1, 'entries_before': seq, 'migration': revision},
                'time': time, 'prev_hash': head,
            }
            rows.append({'chain': chain, 'seq': seq + 1, 'case_id': fields['case_id'], 'actor_id': None,
                         'actor': 'system', 'action': REANCHORED, 'payload': fields['payload'], 'created_at': now,
                         'prev_hash': head, 'hash': _hash_v2(fields), 'hash_version': 2})
        conn.execute(event.insert(), rows)
        after = chains[-1]


def downgrade():
    conn = op.get_bind()
    written = conn.scalar(sa.select(sa.func.count()).select_from(event)
                          .where(event.c.hash_version != 1, event.c.action != REANCHORED))
    if written:
        raise RuntimeError(f'{written} audit entries were written with hash version 2 since the upgrade: '
                           'the version-1 code could not check them. Not downgrading.')
    conn.execute(event.delete().where(event.c.action == REANCHORED, event.c.hash_version == 2))
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('hash_version')
