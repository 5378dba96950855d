-- The rights reformflow's processes need on PostgreSQL, and no more (docs/operations.md).
--
-- Run as the role that owns the database and ran `reformflow init`:
--   psql "postgresql://reformflow_owner@HOST/reformflow" -v app=reformflow_app -f ops/grant_app_role.sql
--
-- The web workers and the timer worker then connect as the app role. It can read and write
-- plans, tasks and the audit trail, but it does not own the tables: it cannot drop or disable
-- the triggers that keep audit_events, documents (attached files) and comments append-only, and it has
-- no UPDATE or DELETE on them at all. Schema upgrades (`reformflow init`) run as the owner;
-- run this script again after each upgrade (docs/operations.md, section 5).
\set ON_ERROR_STOP on
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM :"app";
REVOKE UPDATE, DELETE, TRUNCATE ON documents FROM :"app";
REVOKE UPDATE, DELETE, TRUNCATE ON comments FROM :"app";
-- tables and sequences a later upgrade creates (as the owner) get the same rights
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO :"app";
