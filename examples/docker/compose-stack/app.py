"""A web app that stores notes in Postgres and caches them in Redis."""

import os
from pathlib import Path

import psycopg
import redis
from flask import Flask, abort, request


def read_password() -> str:
    """Read the database password from the file Compose mounts as a secret."""
    path = os.environ.get("POSTGRES_PASSWORD_FILE")
    if not path:
        raise SystemExit("POSTGRES_PASSWORD_FILE is not set: point it at the secret file")
    password = Path(path).read_text().strip()
    if not password:
        raise SystemExit(f"{path} is empty: set POSTGRES_PASSWORD in .env")
    return password


DATABASE = {
    "host": os.environ.get("POSTGRES_HOST", "db"),
    "user": os.environ.get("POSTGRES_USER", "app"),
    "dbname": os.environ.get("POSTGRES_DB", "app"),
    "password": read_password(),
    "connect_timeout": 3,
}
cache = redis.Redis.from_url(
    os.environ.get("REDIS_URL", "redis://redis:6379/0"),
    decode_responses=True,
    socket_timeout=3,
)
app = Flask(__name__)


@app.get("/up")
def up():
    return "ok\n"


@app.get("/up/databases")
def up_databases():
    with psycopg.connect(**DATABASE) as connection:
        connection.execute("SELECT 1")
    cache.ping()
    return "ok\n"


@app.put("/notes/<key>")
def put_note(key):
    text = request.get_data(as_text=True)
    with psycopg.connect(**DATABASE) as connection:
        connection.execute(
            "INSERT INTO notes (key, text) VALUES (%s, %s)"
            " ON CONFLICT (key) DO UPDATE SET text = EXCLUDED.text",
            (key, text),
        )
    cache.set(f"note:{key}", text)
    return {"key": key, "text": text}, 201


@app.get("/notes/<key>")
def get_note(key):
    # Read each store on its own, so a caller can see both kept the note.
    with psycopg.connect(**DATABASE) as connection:
        row = connection.execute("SELECT text FROM notes WHERE key = %s", (key,)).fetchone()
    cached = cache.get(f"note:{key}")
    if row is None and cached is None:
        abort(404)
    return {"key": key, "postgres": row[0] if row else None, "redis": cached}
