-- Runs once, when the Postgres data volume is created.
CREATE TABLE notes (
    key  text PRIMARY KEY,
    text text NOT NULL
);
