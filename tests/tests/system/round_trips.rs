//! How many database transactions a whole check costs, counted by
//! PostgreSQL itself (`pg_stat_database`), so the number cannot creep back
//! up unnoticed. Not timed: it counts.
//!
//! The broker runs with one database connection, so after a warm-up flow
//! every statement of the hot path is prepared on it and nothing else
//! (a prepare is a round trip and, in PostgreSQL's count, a transaction)
//! hides in the measured flow.

use std::time::Duration;

use okaz_tests::{Kit, Options};

/// The most transactions a full flow (start + code) may take.
const MAX_TRANSACTIONS_PER_FLOW: i64 = 4;

/// Committed and rolled-back transactions in the broker's database.
async fn transactions(db: &tokio_postgres::Client, name: &str) -> i64 {
    let row = db
        .query_one(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1",
            &[&name],
        )
        .await
        .unwrap();
    row.get(0)
}

/// One full clerk's flow; panics unless the document is released.
async fn full_flow(kit: &Kit, token: &str, pesel: &str, phone: &str) {
    let started = kit.start_check(token, pesel, "id_card", "age_check").await;
    assert_eq!(started.status, 201, "{}", started.body);
    let code = kit.latest_code(phone).await;
    let id = started.body["id"].as_str().unwrap();
    let done = kit.give_code(token, id, &code).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body["status"], "completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_flow_takes_at_most_four_transactions() {
    // Notices on: a consent check's notice costs the check no transaction
    // (the citizen's channel choices ride in the release's).
    let kit = Kit::start_with(Options {
        pool_size: 1,
        notices: true,
        ..Options::default()
    })
    .await;
    let db = okaz_tests::admin_db().await;
    // Autovacuum's workers would count their own transactions in this
    // database; they have nothing to do in a test this short.
    let own = kit.db().await;
    own.batch_execute(
        "DO $$ DECLARE t record; BEGIN
           FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
             EXECUTE format('ALTER TABLE %I SET (autovacuum_enabled = off, toast.autovacuum_enabled = off)', t.tablename);
           END LOOP;
         END $$",
    )
    .await
    .unwrap();
    // The migrations just wrote many catalog rows (pg_class, pg_attribute,
    // ...), so autovacuum would soon analyze the catalogs in this database,
    // on a busy machine in the middle of a measured flow: do it now.
    own.batch_execute("VACUUM ANALYZE").await.unwrap();
    drop(own);
    let clerk = kit.officer("clerk", "USC-Warszawa").await;
    let anna = kit.citizen(&["valid_id", "adult", "contactable"]).await;
    kit.activate(&anna.pesel).await;
    let phone = anna.phone.clone().unwrap();
    let token = kit.login(&clerk).await;
    // Background work of the server's own (autovacuum of the catalogs,
    // on a busy machine) can land in the window and only ever adds to the
    // count; the flow's own number is the least of a few measurements.
    let mut counts = Vec::new();
    for _ in 0..5 {
        let flow = measure(&kit, &db, &token, &anna.pesel, &phone).await;
        counts.push(flow);
        if flow <= MAX_TRANSACTIONS_PER_FLOW {
            break;
        }
    }
    let flow = counts.iter().copied().min().unwrap_or(i64::MAX);
    assert!(
        (1..=MAX_TRANSACTIONS_PER_FLOW).contains(&flow),
        "a full flow took {flow} database transactions (at most {MAX_TRANSACTIONS_PER_FLOW}; measured {counts:?})"
    );
    println!("a full flow took {flow} database transactions (measured {counts:?})");
}

/// One measurement: a warm-up flow (which prepares every statement on the
/// broker's one connection), then the counted flow.
async fn measure(
    kit: &Kit,
    db: &tokio_postgres::Client,
    token: &str,
    pesel: &str,
    phone: &str,
) -> i64 {
    full_flow(kit, token, pesel, phone).await;

    // An idle backend reports its counts within PostgreSQL's idle flush
    // interval (10 s); wait for the warm-up to be counted, and on a busy
    // machine until two readings a second apart agree.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let mut before = transactions(db, &kit.database).await;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        db.execute("SELECT pg_stat_clear_snapshot()", &[])
            .await
            .unwrap();
        let now = transactions(db, &kit.database).await;
        if now == before {
            break;
        }
        before = now;
    }

    full_flow(kit, token, pesel, phone).await;

    // A backend reports everything when it exits: end the broker's
    // connection and wait until it is gone.
    db.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = $1 AND pid <> pg_backend_pid()",
        &[&kit.database],
    )
    .await
    .unwrap();
    for _ in 0..100 {
        let left = db
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1",
                &[&kit.database],
            )
            .await
            .unwrap()
            .get::<_, i64>(0);
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The exiting backend's report lands in shared memory; reading it
    // through a fresh snapshot of the statistics.
    db.execute("SELECT pg_stat_clear_snapshot()", &[])
        .await
        .unwrap();
    let after = transactions(db, &kit.database).await;
    after - before
}
