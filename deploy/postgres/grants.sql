-- Privileges of the application's database role on PostgreSQL.
--
-- Two roles: skyddsnat_owner owns the tables and runs `manage.py migrate`; skyddsnat_app is what the
-- running application connects as (DATABASE_URL, SKYDDSNAT_KEYSTORE_URL) and owns nothing. Create them
-- once as a superuser (choose your own passwords):
--   CREATE ROLE skyddsnat_owner LOGIN PASSWORD '...';
--   CREATE ROLE skyddsnat_app LOGIN PASSWORD '...';
--   CREATE DATABASE skyddsnat OWNER skyddsnat_owner;
--   CREATE DATABASE skyddsnat_keys OWNER skyddsnat_owner;
-- Then, after EVERY migrate, as skyddsnat_owner on both databases:
--   psql "postgres://skyddsnat_owner@HOST/skyddsnat" -v ON_ERROR_STOP=1 -f deploy/postgres/grants.sql
--   psql "postgres://skyddsnat_owner@HOST/skyddsnat_keys" -v ON_ERROR_STOP=1 -f deploy/postgres/grants.sql
--
-- The application may read and write its tables, but the audit trail only grows and a released
-- nulägesbild never changes: no UPDATE, DELETE or TRUNCATE on those tables. (Triggers installed by
-- migrations access 0005 and coordination 0002 refuse UPDATE and DELETE from every role, the owner too;
-- TRUNCATE, which no row trigger sees, is kept from the application here.)

GRANT USAGE ON SCHEMA public TO skyddsnat_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO skyddsnat_app;
REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM skyddsnat_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO skyddsnat_app;

DO $$
DECLARE
    audit_table text;
BEGIN
    FOREACH audit_table IN ARRAY ARRAY[
        'access_auditevent', 'access_auditcheckpoint', 'access_auditverification', 'auditlog_logentry',
        'coordination_nulagesbildrelease'
    ] LOOP
        IF to_regclass('public.' || audit_table) IS NOT NULL THEN
            EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON public.%I FROM skyddsnat_app', audit_table);
            EXECUTE format('GRANT SELECT, INSERT ON public.%I TO skyddsnat_app', audit_table);
        END IF;
    END LOOP;
END
$$;
