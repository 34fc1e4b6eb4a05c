"""Store schema, as an ordered list of migrations (index i upgrades v<i> to v<i+1>).

Never edit a released migration: append a new one.
"""

V1 = """
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL,
    spec             TEXT NOT NULL,              -- JSON, every default filled in
    status           TEXT NOT NULL CHECK (status IN ('queued','running','done','failed','cancelled')),
    priority         INTEGER NOT NULL DEFAULT 0,
    study            TEXT,                       -- group name, e.g. 'zoo'
    label            TEXT,                       -- short description for tables
    placement        TEXT NOT NULL DEFAULT '{}', -- {"gpu": 1, "exclude_gpus": [0]}
    depends_on       TEXT NOT NULL DEFAULT '[]', -- job ids that must be done first
    data_dir         TEXT,                       -- MNIST folder chosen at submit time
    max_attempts     INTEGER NOT NULL DEFAULT 2,
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_at       REAL NOT NULL,
    started_at       REAL,
    finished_at      REAL,
    slot             TEXT,
    device           TEXT,
    worker_pid       INTEGER,
    heartbeat_at     REAL,
    progress         REAL NOT NULL DEFAULT 0,
    progress_text    TEXT,
    eta_s            REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    wait_reason      TEXT,
    reason           TEXT,                       -- why it failed / was cancelled / requeued
    result           TEXT,                       -- JSON
    headline         REAL,                       -- the kind's main number, e.g. test accuracy
    repro            TEXT NOT NULL DEFAULT '{}', -- JSON reproducibility record
    seq              INTEGER NOT NULL DEFAULT 0  -- store-wide change counter at the last change
);
CREATE INDEX jobs_by_status ON jobs (status, priority DESC, id);
CREATE INDEX jobs_by_seq ON jobs (seq);
CREATE INDEX jobs_by_study ON jobs (study);

CREATE TABLE attempts (
    job_id     INTEGER NOT NULL REFERENCES jobs (id),
    n          INTEGER NOT NULL,
    started_at REAL NOT NULL,
    ended_at   REAL,
    slot       TEXT,
    device     TEXT,
    worker_pid INTEGER,
    outcome    TEXT,      -- done / failed / cancelled / lost / interrupted
    reason     TEXT,
    PRIMARY KEY (job_id, n)
);

CREATE TABLE metrics (
    id     INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    name   TEXT NOT NULL,
    step   INTEGER NOT NULL,
    value  REAL NOT NULL,
    UNIQUE (job_id, name, step)
);

CREATE TABLE result_tables (
    job_id  INTEGER NOT NULL REFERENCES jobs (id),
    name    TEXT NOT NULL,
    payload TEXT NOT NULL,
    seq     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, name)
);

CREATE TABLE artifacts (
    job_id  INTEGER NOT NULL REFERENCES jobs (id),
    name    TEXT NOT NULL,
    kind    TEXT NOT NULL,
    path    TEXT NOT NULL,
    meta    TEXT NOT NULL DEFAULT '{}',
    seq     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, name)
);

CREATE TABLE logs (
    id      INTEGER PRIMARY KEY,
    job_id  INTEGER NOT NULL REFERENCES jobs (id),
    ts      REAL NOT NULL,
    level   TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX logs_by_job ON logs (job_id, id);

CREATE TABLE engine (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    pid          INTEGER,
    started_at   REAL,
    heartbeat_at REAL,
    stopped_at   REAL,
    slots        TEXT NOT NULL DEFAULT '[]',  -- JSON: [{"name", "device", "job_id", "worker_pid"}]
    info         TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE studies (
    name       TEXT PRIMARY KEY,             -- the group's name, e.g. 'zoo'
    type       TEXT NOT NULL,                -- which study it is: zoo, augment, gan, fgsm
    options    TEXT NOT NULL DEFAULT '{}',   -- JSON: what `mnistlab study <type>` was asked
    created_at REAL NOT NULL
);

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters VALUES ('seq', 0);
"""


# v2: non-finite metrics (a diverged loss is NaN, which SQLite stores as NULL: the value may be NULL now);
# artifact paths relative to their run's folder (a moved data folder keeps its runs); the start time of a
# job's worker process (orphan cleanup tells it from a later process that reuses its pid).
V2 = """
CREATE TABLE metrics_v2 (
    id     INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    name   TEXT NOT NULL,
    step   INTEGER NOT NULL,
    value  REAL,                                -- NULL is NaN, +-Inf are stored as such
    UNIQUE (job_id, name, step)
);
INSERT INTO metrics_v2 (id, job_id, name, step, value) SELECT id, job_id, name, step, value FROM metrics;
DROP TABLE metrics;
ALTER TABLE metrics_v2 RENAME TO metrics;
UPDATE artifacts SET path = replace(path, rtrim(path, replace(path, '/', '')), '') WHERE path LIKE '%/%';
ALTER TABLE jobs ADD COLUMN worker_started REAL;
ALTER TABLE attempts ADD COLUMN worker_started REAL
"""

# v3: the engine finds the queued jobs that wait for others without reading the rest of the queue.
V3 = """
CREATE INDEX jobs_waiting_on_others ON jobs (id) WHERE status = 'queued' AND depends_on != '[]'
"""

# v4: windowed reads (`ls`, the dashboard): every screen reads the rows it shows through an index, so
# its cost follows the window, not the history. Each (status[, kind | group]) window is one index range:
# running and finished jobs by id, queued jobs in the engine's order (priority, then FIFO).
# (study, status, ...) replaces (study).
V4 = """
CREATE INDEX jobs_by_status_id ON jobs (status, id);
CREATE INDEX jobs_by_status_kind ON jobs (status, kind, id);
CREATE INDEX jobs_by_status_kind_queue ON jobs (status, kind, priority DESC, id);
CREATE INDEX jobs_by_study_status ON jobs (study, status, id);
CREATE INDEX jobs_by_study_queue ON jobs (study, status, priority DESC, id);
DROP INDEX jobs_by_study;
"""

MIGRATIONS: list[str] = [V1, V2, V3, V4]
