"""The naive contender of `bench/api.py`: what the same stack does for a pledge, plainly.

Flask + marshmallow + SQLAlchemy 2 + psycopg, served by the Procfile's gunicorn command: a
marshmallow schema checks a body like the product's pledge body (a supporter, targets, a
letter count), and one INSERT in its own transaction stores it (BEGIN, INSERT, COMMIT).
No auth, no event log, no read models: the yardstick users would compare a write with.
Nothing in the product imports this.

    NAIVE_DATABASE_URL=postgresql+psycopg://... gunicorn ... bench.naive_api:app
"""

from __future__ import annotations

import os
from typing import Any

import marshmallow as ma
from flask import Flask, request
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Engine,
    Identity,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    insert,
)

metadata = MetaData()
naive_pledges = Table(
    "naive_pledges", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("action_id", String(64), nullable=False),
    Column("supporter_id", String(64), nullable=False),
    Column("target_ids", JSON, nullable=False),
    Column("letters_promised", Integer, nullable=False),
    Column("pledged_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

F = ma.fields


class PledgeSchema(ma.Schema):
    """The product's pledge body, plus the supporter the product reads from its token."""

    supporter_id = F.String(required=True, validate=ma.validate.Length(min=1, max=64))
    target_ids = F.List(F.String(validate=ma.validate.Length(min=1, max=64)),
                        load_default=list, validate=ma.validate.Length(max=100))
    letters_promised = F.Integer(required=True, strict=True,
                                 validate=ma.validate.Range(min=1, max=100))


def create_app(engine: Engine) -> Flask:
    """One route: validate, insert, answer 201 with the stored row."""
    app = Flask(__name__)
    schema = PledgeSchema()

    @app.post("/actions/<action_id>/pledges")
    def pledge(action_id: str) -> tuple[dict[str, Any], int]:
        try:
            body = schema.load(request.get_json(force=True, silent=True) or {})
        except ma.ValidationError as error:
            return {"errors": error.messages}, 422
        with engine.begin() as conn:
            row = conn.execute(insert(naive_pledges).values(action_id=action_id, **body)
                               .returning(naive_pledges.c.id,
                                          naive_pledges.c.pledged_at)).one()
        return {"id": row.id, "action_id": action_id, **body,
                "pledged_at": row.pledged_at.isoformat()}, 201

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        return {"status": "ok"}, 200

    return app


def engine_from_env() -> Engine:
    """The bench database, pooled like the product's engine (one connection per thread)."""
    return create_engine(os.environ["NAIVE_DATABASE_URL"], pool_size=8, pool_pre_ping=False)


app = create_app(engine_from_env()) if "NAIVE_DATABASE_URL" in os.environ else None
