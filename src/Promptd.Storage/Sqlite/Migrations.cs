using Microsoft.Data.Sqlite;

namespace Promptd.Storage.Sqlite;

/// <summary>
/// The schema, as numbered steps applied in order, each in its own transaction, recorded in
/// schema_migrations. Never edit a released step: add a new one.
/// </summary>
internal static class Migrations
{
    private static readonly (int Version, string Sql)[] Steps =
    [
        (1, """
            CREATE TABLE users (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                is_admin INTEGER NOT NULL,
                created_at TEXT NOT NULL);

            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL,
                key_hash TEXT NOT NULL UNIQUE,
                prefix TEXT NOT NULL,
                created_at TEXT NOT NULL);
            CREATE INDEX api_keys_user ON api_keys(user_id);

            CREATE TABLE threads (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                user_id TEXT NOT NULL,
                title TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL);
            CREATE INDEX threads_user ON threads(user_id, seq);

            CREATE TABLE messages (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                thread_id TEXT NOT NULL,
                role TEXT NOT NULL,
                content TEXT NOT NULL,
                user_id TEXT,
                run_id TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL);
            CREATE INDEX messages_thread ON messages(thread_id, seq);
            CREATE INDEX messages_run ON messages(run_id) WHERE run_id IS NOT NULL;

            CREATE TABLE runs (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                kind TEXT NOT NULL,
                user_id TEXT NOT NULL,
                thread_id TEXT,
                model_id TEXT NOT NULL,
                prompt TEXT NOT NULL,
                template TEXT,
                input_json TEXT NOT NULL,
                sync INTEGER NOT NULL,
                status TEXT NOT NULL,
                run_count INTEGER NOT NULL,
                max_retries INTEGER NOT NULL,
                error TEXT,
                answer TEXT,
                finish_reason TEXT,
                prompt_tokens INTEGER,
                completion_tokens INTEGER,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                last_run TEXT,
                next_attempt_at TEXT,
                lease_owner TEXT,
                lease_expires_at TEXT,
                request_hash TEXT);
            CREATE INDEX runs_kind_created ON runs(kind, created_at, id);
            CREATE INDEX runs_kind_status ON runs(kind, status, created_at, id);
            CREATE INDEX runs_kind_user_created ON runs(kind, user_id, created_at, id);
            CREATE INDEX runs_kind_user_status ON runs(kind, user_id, status, created_at, id);
            CREATE INDEX runs_kind_user_model ON runs(kind, user_id, model_id, created_at, id);
            CREATE INDEX runs_open ON runs(status, seq) WHERE status IN ('scheduled', 'errored', 'running');
            CREATE INDEX runs_thread ON runs(thread_id) WHERE thread_id IS NOT NULL;

            CREATE TABLE run_events (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                run_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                thread_id TEXT,
                type TEXT NOT NULL,
                data TEXT NOT NULL,
                created_at TEXT NOT NULL);
            CREATE INDEX run_events_run ON run_events(run_id, id);
            CREATE INDEX run_events_thread ON run_events(thread_id, id) WHERE thread_id IS NOT NULL;
            """),
        (2, """
            CREATE TABLE templates (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                user_id TEXT NOT NULL,
                name TEXT NOT NULL,
                description TEXT,
                default_version_id TEXT NOT NULL,
                version_count INTEGER NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL);
            CREATE INDEX templates_created ON templates(created_at, id);
            CREATE INDEX templates_user_created ON templates(user_id, created_at, id);

            -- Written once, never updated: a version is immutable.
            CREATE TABLE template_versions (
                id TEXT PRIMARY KEY,
                template_id TEXT NOT NULL,
                number INTEGER NOT NULL,
                model_id TEXT NOT NULL,
                content_json TEXT NOT NULL,
                created_at TEXT NOT NULL,
                UNIQUE (template_id, number));

            CREATE TABLE template_labels (
                template_id TEXT NOT NULL,
                label TEXT NOT NULL,
                version_id TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (template_id, label)) WITHOUT ROWID;
            """),
        (3, """
            -- What a template run has besides its row in runs (same id).
            CREATE TABLE template_runs (
                run_id TEXT PRIMARY KEY,
                template_id TEXT NOT NULL,
                version_id TEXT NOT NULL,
                version_number INTEGER NOT NULL,
                message_id TEXT NOT NULL,
                background INTEGER NOT NULL,
                replacements_json TEXT NOT NULL,
                unused_json TEXT NOT NULL,
                citations_json TEXT NOT NULL);
            CREATE INDEX template_runs_template ON template_runs(template_id);
            CREATE INDEX template_runs_version ON template_runs(version_id);
            """),
        (4, """
            CREATE TABLE knowledge_bases (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                user_id TEXT NOT NULL,
                name TEXT NOT NULL,
                description TEXT,
                created_at TEXT NOT NULL);
            CREATE INDEX knowledge_bases_user ON knowledge_bases(user_id, seq);

            CREATE TABLE knowledge_documents (
                knowledge_base_id TEXT NOT NULL,
                document_id TEXT NOT NULL,
                file_id TEXT NOT NULL,
                source_name TEXT NOT NULL,
                source_url TEXT,
                content_type TEXT NOT NULL,
                last_update TEXT NOT NULL,
                tags_json TEXT NOT NULL,
                PRIMARY KEY (knowledge_base_id, document_id)) WITHOUT ROWID;

            CREATE TABLE knowledge_partitions (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                knowledge_base_id TEXT NOT NULL,
                document_id TEXT NOT NULL,
                section_number INTEGER NOT NULL,
                partition_number INTEGER NOT NULL,
                heading TEXT,
                text TEXT NOT NULL,
                length INTEGER NOT NULL);
            CREATE INDEX knowledge_partitions_document ON knowledge_partitions(knowledge_base_id, document_id);

            -- The inverted index: one row per (term, partition).
            CREATE TABLE knowledge_postings (
                term TEXT NOT NULL,
                partition_id INTEGER NOT NULL,
                tf INTEGER NOT NULL,
                PRIMARY KEY (term, partition_id)) WITHOUT ROWID;
            CREATE INDEX knowledge_postings_partition ON knowledge_postings(partition_id);
            """),
    ];

    public static int Latest => Steps[^1].Version;

    public static void Apply(SqliteConnection connection)
    {
        Exec(connection, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
        long current;
        using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
            current = (long)cmd.ExecuteScalar()!;
        }
        if (current > Latest)
            throw new InvalidOperationException($"the database is at schema version {current}, newer than this build ({Latest}); use a newer promptd");
        foreach (var (version, sql) in Steps)
        {
            if (version <= current) continue;
            using var tx = connection.BeginTransaction();
            using (var cmd = connection.CreateCommand())
            {
                cmd.Transaction = tx;
                cmd.CommandText = sql;
                cmd.ExecuteNonQuery();
            }
            using (var cmd = connection.CreateCommand())
            {
                cmd.Transaction = tx;
                cmd.CommandText = "INSERT INTO schema_migrations (version, applied_at) VALUES ($v, $t)";
                cmd.Parameters.AddWithValue("$v", version);
                cmd.Parameters.AddWithValue("$t", Promptd.Core.Timestamps.ToText(DateTimeOffset.UtcNow));
                cmd.ExecuteNonQuery();
            }
            tx.Commit();
        }
    }

    private static void Exec(SqliteConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}
