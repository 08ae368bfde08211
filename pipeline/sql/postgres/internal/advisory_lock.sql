-- Serialize writers on one key until the transaction ends (migrations, one batch's load).
SELECT pg_advisory_xact_lock(hashtext(%s))
