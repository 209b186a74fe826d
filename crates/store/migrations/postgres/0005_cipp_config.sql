-- CIPP's own configuration the user pages read: Graph Explorer presets, each signed-in
-- user's bookmarks, custom data mappings and the extensions configuration.

-- Graph Explorer presets: the owner's UPN (lower-cased) and whether others see it too.
CREATE TABLE graph_presets (
    id         text        PRIMARY KEY,
    name       text        NOT NULL,
    owner      text        NOT NULL,
    is_shared  boolean     NOT NULL,
    params     jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX graph_presets_owner ON graph_presets (owner);

-- Each signed-in user's bookmarks (a JSON array), by UPN (lower-cased) or API client id.
CREATE TABLE user_bookmarks (
    user_key   text        PRIMARY KEY,
    value      jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Custom data mappings as the settings page saved them.
CREATE TABLE custom_data_mappings (
    id         text        PRIMARY KEY,
    body       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);

-- The extensions configuration: a single row.
CREATE TABLE extensions_config (
    id         smallint    PRIMARY KEY CHECK (id = 1),
    value      jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);
