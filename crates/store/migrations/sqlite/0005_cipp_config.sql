-- CIPP's own configuration the user pages read: Graph Explorer presets, each signed-in
-- user's bookmarks, custom data mappings and the extensions configuration. Same tables as
-- migrations/postgres/0005_cipp_config.sql; times are INTEGER microseconds, JSON is TEXT.
CREATE TABLE graph_presets (
    id         TEXT    PRIMARY KEY NOT NULL,
    name       TEXT    NOT NULL,
    owner      TEXT    NOT NULL,
    is_shared  INTEGER NOT NULL,
    params     TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX graph_presets_owner ON graph_presets (owner);

CREATE TABLE user_bookmarks (
    user_key   TEXT    PRIMARY KEY NOT NULL,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE custom_data_mappings (
    id         TEXT    PRIMARY KEY NOT NULL,
    body       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE extensions_config (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
