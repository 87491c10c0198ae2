/**
 * Numbered schema migrations, applied in order at open inside one transaction each.
 * Never edit a migration that has shipped: add the next number.
 */
export interface Migration {
  version: number;
  name: string;
  /** SQLite's SQL. */
  sql: string;
  /** PostgreSQL's SQL, when it differs (the core migrations' are in migrate-postgres.ts). */
  postgresql?: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'session log, learned fixes, known issues, key-value lists',
    sql: `
      CREATE TABLE session_log (
        id INTEGER PRIMARY KEY,
        ts TEXT NOT NULL,
        action TEXT NOT NULL,
        details TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT 'tool'
      );
      CREATE INDEX session_log_ts ON session_log(ts);

      CREATE TABLE learned_fixes (
        id INTEGER PRIMARY KEY,
        tool TEXT NOT NULL,
        error_pattern TEXT NOT NULL,
        root_cause TEXT NOT NULL,
        fix TEXT NOT NULL,
        times_matched INTEGER NOT NULL DEFAULT 0,
        times_fixed INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (tool, error_pattern)
      );
      CREATE VIRTUAL TABLE learned_fixes_fts USING fts5(
        tool, error_pattern, root_cause, fix, content='learned_fixes', content_rowid='id'
      );
      CREATE TRIGGER learned_fixes_ai AFTER INSERT ON learned_fixes BEGIN
        INSERT INTO learned_fixes_fts(rowid, tool, error_pattern, root_cause, fix)
        VALUES (new.id, new.tool, new.error_pattern, new.root_cause, new.fix);
      END;
      CREATE TRIGGER learned_fixes_ad AFTER DELETE ON learned_fixes BEGIN
        INSERT INTO learned_fixes_fts(learned_fixes_fts, rowid, tool, error_pattern, root_cause, fix)
        VALUES ('delete', old.id, old.tool, old.error_pattern, old.root_cause, old.fix);
      END;
      CREATE TRIGGER learned_fixes_au AFTER UPDATE OF tool, error_pattern, root_cause, fix ON learned_fixes BEGIN
        INSERT INTO learned_fixes_fts(learned_fixes_fts, rowid, tool, error_pattern, root_cause, fix)
        VALUES ('delete', old.id, old.tool, old.error_pattern, old.root_cause, old.fix);
        INSERT INTO learned_fixes_fts(rowid, tool, error_pattern, root_cause, fix)
        VALUES (new.id, new.tool, new.error_pattern, new.root_cause, new.fix);
      END;

      CREATE TABLE known_issues (
        id INTEGER PRIMARY KEY,
        topic TEXT NOT NULL,
        pattern TEXT NOT NULL,
        meaning TEXT NOT NULL,
        fix TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT '',
        times_matched INTEGER NOT NULL DEFAULT 0,
        UNIQUE (topic, pattern)
      );
      CREATE VIRTUAL TABLE known_issues_fts USING fts5(
        topic, pattern, meaning, fix, content='known_issues', content_rowid='id'
      );
      CREATE TRIGGER known_issues_ai AFTER INSERT ON known_issues BEGIN
        INSERT INTO known_issues_fts(rowid, topic, pattern, meaning, fix)
        VALUES (new.id, new.topic, new.pattern, new.meaning, new.fix);
      END;
      CREATE TRIGGER known_issues_ad AFTER DELETE ON known_issues BEGIN
        INSERT INTO known_issues_fts(known_issues_fts, rowid, topic, pattern, meaning, fix)
        VALUES ('delete', old.id, old.topic, old.pattern, old.meaning, old.fix);
      END;
      CREATE TRIGGER known_issues_au AFTER UPDATE OF topic, pattern, meaning, fix ON known_issues BEGIN
        INSERT INTO known_issues_fts(known_issues_fts, rowid, topic, pattern, meaning, fix)
        VALUES ('delete', old.id, old.topic, old.pattern, old.meaning, old.fix);
        INSERT INTO known_issues_fts(rowid, topic, pattern, meaning, fix)
        VALUES (new.id, new.topic, new.pattern, new.meaning, new.fix);
      END;

      CREATE TABLE kv_items (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        list TEXT NOT NULL,
        item TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX kv_items_key_list ON kv_items(key, list, id);
      CREATE INDEX learned_fixes_tool ON learned_fixes(tool, times_fixed, id);

      -- Document frequencies of indexed words, to search with the words that discriminate.
      CREATE VIRTUAL TABLE learned_fixes_vocab USING fts5vocab(learned_fixes_fts, 'row');
      CREATE VIRTUAL TABLE known_issues_vocab USING fts5vocab(known_issues_fts, 'row');

      CREATE TABLE knowledge_sources (
        source TEXT PRIMARY KEY,
        signature TEXT NOT NULL
      );
    `,
  },
  {
    // Version 2 is the skill run tables (another part of the project); memories skip numbers they lack.
    version: 3,
    name: 'release ledger: releases, release events, feature flags',
    sql: `
      CREATE TABLE releases (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        from_env TEXT NOT NULL,
        to_env TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('prepared', 'promoted', 'failed', 'rolled_back')),
        bundle_sha256 TEXT NOT NULL,
        manifest TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        promoted_at TEXT,
        failed_at TEXT,
        rolled_back_at TEXT,
        error_message TEXT,
        backup_path TEXT,
        schema_after TEXT,
        previous_flags TEXT
      );
      CREATE INDEX releases_tenant_created ON releases(tenant, created_at);

      CREATE TABLE release_events (
        id INTEGER PRIMARY KEY,
        release_id TEXT,
        tenant TEXT NOT NULL,
        event TEXT NOT NULL,
        actor TEXT NOT NULL,
        role TEXT NOT NULL,
        ts TEXT NOT NULL,
        duration_ms INTEGER,
        details TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX release_events_release ON release_events(release_id, id);
      CREATE INDEX release_events_tenant ON release_events(tenant, id);
      CREATE INDEX release_events_event ON release_events(event);

      CREATE TABLE feature_flags (
        tenant TEXT NOT NULL,
        environment TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        release_id TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (tenant, environment, name)
      );
    `,
  },
  {
    // Learned fixes belong to a tenant and name who taught them. Rows from before go to the
    // default tenant (temp.migration_env, as in migration 4); their pattern_words/pattern_lead are
    // filled at open by indexLegacyFixes, which needs the word splitting of fixes.ts. The word index becomes contentless and carries a tenant token, so a lookup
    // searches one tenant's fixes only; pattern_words/pattern_lead find the fixes whose pattern
    // appears in an error with a plain index lookup, however common its words.
    version: 6,
    name: 'learned fixes per tenant, with who taught them',
    sql: `
      DROP TRIGGER learned_fixes_ai;
      DROP TRIGGER learned_fixes_ad;
      DROP TRIGGER learned_fixes_au;
      DROP TABLE learned_fixes_vocab;
      DROP TABLE learned_fixes_fts;

      CREATE TABLE learned_fixes_v6 (
        id INTEGER PRIMARY KEY,
        tenant TEXT NOT NULL,
        taught_by TEXT NOT NULL,
        tool TEXT NOT NULL,
        error_pattern TEXT NOT NULL,
        pattern_words TEXT NOT NULL DEFAULT '',
        pattern_lead TEXT NOT NULL DEFAULT '',
        root_cause TEXT NOT NULL,
        fix TEXT NOT NULL,
        times_matched INTEGER NOT NULL DEFAULT 0,
        times_fixed INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (tenant, tool, error_pattern)
      );
      INSERT INTO learned_fixes_v6 (id, tenant, taught_by, tool, error_pattern, root_cause, fix, times_matched, times_fixed, created_at, updated_at)
        SELECT id, (SELECT default_tenant FROM temp.migration_env), 'unrecorded', tool, error_pattern, root_cause, fix, times_matched, times_fixed, created_at, updated_at FROM learned_fixes;
      DROP TABLE learned_fixes;
      ALTER TABLE learned_fixes_v6 RENAME TO learned_fixes;
      CREATE INDEX learned_fixes_tool ON learned_fixes(tenant, tool, times_fixed, id);
      CREATE INDEX learned_fixes_lead ON learned_fixes(tenant, pattern_lead, pattern_words);

      CREATE VIRTUAL TABLE learned_fixes_fts USING fts5(
        tenant_key, error_pattern, root_cause, content='', contentless_delete=1, detail=column
      );
      INSERT INTO learned_fixes_fts(rowid, tenant_key, error_pattern, root_cause)
        SELECT id, 't' || lower(hex(tenant)), error_pattern, root_cause FROM learned_fixes;
      CREATE TRIGGER learned_fixes_ai AFTER INSERT ON learned_fixes BEGIN
        INSERT INTO learned_fixes_fts(rowid, tenant_key, error_pattern, root_cause)
        VALUES (new.id, 't' || lower(hex(new.tenant)), new.error_pattern, new.root_cause);
      END;
      CREATE TRIGGER learned_fixes_ad AFTER DELETE ON learned_fixes BEGIN
        DELETE FROM learned_fixes_fts WHERE rowid = old.id;
      END;
      CREATE TRIGGER learned_fixes_au AFTER UPDATE OF tenant, error_pattern, root_cause ON learned_fixes BEGIN
        DELETE FROM learned_fixes_fts WHERE rowid = old.id;
        INSERT INTO learned_fixes_fts(rowid, tenant_key, error_pattern, root_cause)
        VALUES (new.id, 't' || lower(hex(new.tenant)), new.error_pattern, new.root_cause);
      END;
    `,
  },
  {
    version: 2,
    name: 'skill runs and their steps',
    sql: `
      CREATE TABLE skill_runs (
        id TEXT PRIMARY KEY,
        skill TEXT NOT NULL,
        version TEXT NOT NULL DEFAULT '',
        file TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        dry_run INTEGER NOT NULL DEFAULT 0,
        inputs TEXT NOT NULL DEFAULT '{}',
        outputs TEXT NOT NULL DEFAULT '{}',
        error TEXT,
        resumes INTEGER NOT NULL DEFAULT 0,
        started_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        duration_ms INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX skill_runs_started ON skill_runs(started_at);
      CREATE INDEX skill_runs_skill ON skill_runs(skill, started_at);

      CREATE TABLE run_steps (
        run_id TEXT NOT NULL REFERENCES skill_runs(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        round INTEGER NOT NULL DEFAULT 0,
        phase TEXT NOT NULL DEFAULT 'main',
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        tool TEXT,
        args TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        duration_ms INTEGER NOT NULL DEFAULT 0,
        output TEXT,
        output_summary TEXT,
        error TEXT,
        matches TEXT,
        note TEXT,
        ts TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
      );
    `,
  },
  {
    // Rows written before tenants existed belong to the default tenant (temp.migration_env, see store.ts).
    version: 4,
    name: 'tenant of skill runs, session journal and memory lists; list lengths for O(1) appends',
    sql: `
      ALTER TABLE skill_runs ADD COLUMN tenant TEXT NOT NULL DEFAULT '';
      ALTER TABLE skill_runs ADD COLUMN started_by TEXT NOT NULL DEFAULT '';
      UPDATE skill_runs SET tenant = (SELECT default_tenant FROM temp.migration_env);
      CREATE INDEX skill_runs_tenant_started ON skill_runs(tenant, started_at);

      ALTER TABLE session_log ADD COLUMN tenant TEXT NOT NULL DEFAULT '';
      ALTER TABLE session_log ADD COLUMN actor TEXT NOT NULL DEFAULT '';
      UPDATE session_log SET tenant = (SELECT default_tenant FROM temp.migration_env);
      CREATE INDEX session_log_tenant ON session_log(tenant, id);

      ALTER TABLE kv_items ADD COLUMN tenant TEXT NOT NULL DEFAULT '';
      UPDATE kv_items SET tenant = (SELECT default_tenant FROM temp.migration_env);
      DROP INDEX kv_items_key_list;
      CREATE INDEX kv_items_tenant_list ON kv_items(tenant, key, list, id);

      -- One row per list: its length, so an append does not count the list and a read knows the total.
      CREATE TABLE kv_lists (
        tenant TEXT NOT NULL,
        key TEXT NOT NULL,
        list TEXT NOT NULL,
        length INTEGER NOT NULL,
        PRIMARY KEY (tenant, key, list)
      ) WITHOUT ROWID;
      INSERT INTO kv_lists (tenant, key, list, length) SELECT tenant, key, list, count(*) FROM kv_items GROUP BY tenant, key, list;
    `,
  },
  {
    version: 5,
    name: 'run leases, the step call journal, nested runs, the promotion journal',
    sql: `
      -- Who runs a run now (host:pid:random) and when it last said so (epoch ms).
      ALTER TABLE skill_runs ADD COLUMN owner TEXT;
      ALTER TABLE skill_runs ADD COLUMN heartbeat_at INTEGER;
      -- A run started by a skill_run step of another run.
      ALTER TABLE skill_runs ADD COLUMN parent_run TEXT;
      ALTER TABLE skill_runs ADD COLUMN parent_step TEXT;
      ALTER TABLE skill_runs ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX skill_runs_parent ON skill_runs(parent_run, parent_step);

      -- A tool call of a step: written before the call, done after its result is recorded.
      CREATE TABLE run_step_calls (
        run_id TEXT NOT NULL REFERENCES skill_runs(id) ON DELETE CASCADE,
        round INTEGER NOT NULL,
        phase TEXT NOT NULL,
        name TEXT NOT NULL,
        tool TEXT NOT NULL,
        args TEXT,
        idempotent INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        done_at TEXT,
        outcome TEXT,
        PRIMARY KEY (run_id, phase, name, round)
      );

      -- A promotion's intent before the target database commits, its outcome after.
      CREATE TABLE release_promotions (
        release_id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        environment TEXT NOT NULL,
        target TEXT NOT NULL,
        plan_sha256 TEXT NOT NULL,
        previous_flags TEXT NOT NULL,
        intent_at TEXT NOT NULL,
        outcome TEXT,
        outcome_at TEXT
      );
    `,
  },
  {
    // Staged promotion: the promoting process owns its intent while the promotion skill runs
    // after the target committed, so a reconcile leaves a live promotion alone.
    version: 8,
    name: 'release promotion owner',
    sql: `ALTER TABLE release_promotions ADD COLUMN owner TEXT;`,
    postgresql: `ALTER TABLE release_promotions ADD COLUMN owner TEXT;`,
  },
  {
    // The 2026-07-28 protocol era has no sessions: a principal's persona lives here, so every
    // process serving that principal lists the same tools.
    version: 9,
    name: 'principal personas',
    sql: `CREATE TABLE principal_personas (
  tenant TEXT NOT NULL,
  subject TEXT NOT NULL,
  persona TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (tenant, subject)
);`,
    postgresql: `CREATE TABLE principal_personas (
  tenant TEXT NOT NULL,
  subject TEXT NOT NULL,
  persona TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (tenant, subject)
);`,
  },
  {
    // Approvals asked in 2026-07-28 input_required results: the key that seals their request
    // state (shared by every replica on this store), the single-use nonces already answered, and
    // who approved or declined which confirm step, when and how.
    version: 10,
    name: 'skill approvals',
    sql: `CREATE TABLE server_keys (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE approval_nonces (
  nonce TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at TEXT NOT NULL
);
CREATE INDEX approval_nonces_expiry ON approval_nonces(expires_at);
CREATE TABLE skill_run_approvals (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES skill_runs(id) ON DELETE CASCADE,
  step TEXT NOT NULL,
  decision TEXT NOT NULL,
  tenant TEXT NOT NULL,
  subject TEXT NOT NULL,
  role TEXT NOT NULL,
  era TEXT NOT NULL,
  via TEXT NOT NULL,
  decided_at TEXT NOT NULL
);
CREATE INDEX skill_run_approvals_run ON skill_run_approvals(run_id);`,
    postgresql: `CREATE TABLE server_keys (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE approval_nonces (
  nonce TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at TEXT NOT NULL
);
CREATE INDEX approval_nonces_expiry ON approval_nonces(expires_at);
CREATE TABLE skill_run_approvals (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES skill_runs(id) ON DELETE CASCADE,
  step TEXT NOT NULL,
  decision TEXT NOT NULL,
  tenant TEXT NOT NULL,
  subject TEXT NOT NULL,
  role TEXT NOT NULL,
  era TEXT NOT NULL,
  via TEXT NOT NULL,
  decided_at TEXT NOT NULL
);
CREATE INDEX skill_run_approvals_run ON skill_run_approvals(run_id);`,
  },
];
