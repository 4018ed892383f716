//! The transparency log's tables: leaf indexes, tree hashes, checkpoints.

use std::collections::HashMap;

use async_trait::async_trait;
use okaz_core::ports::StoreError;
use okaz_core::tlog::{fold_batch, ChainHead, StoredCheckpoint, TlogStore, TreeHead};
use okaz_tlog::merkle::{self, Hash, NodeId};
use tokio_postgres::types::ToSql;
use tokio_postgres::GenericClient;

use super::audit::{record, COLUMNS};
use super::{map_err, PgStore};

/// Held (for a transaction) by the one integrator working at a time.
const INTEGRATOR_LOCK: i64 = 0x6f6b_617a_746c; // "okaztl"

fn hash(v: &[u8]) -> Result<Hash, StoreError> {
    Hash::try_from(v).map_err(|_| StoreError::Corrupt("a tree hash is not 32 bytes".into()))
}

fn to_u64(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt("a negative tree index".into()))
}

fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt("a tree index past i64".into()))
}

async fn hashes_in<C: GenericClient>(
    c: &C,
    ids: &[NodeId],
) -> Result<HashMap<NodeId, Hash>, StoreError> {
    let levels: Vec<i16> = ids.iter().map(|(l, _)| i16::from(*l)).collect();
    let idxs = ids
        .iter()
        .map(|(_, i)| to_i64(*i))
        .collect::<Result<Vec<_>, _>>()?;
    let rows = c
        .query(
            "SELECT t.level, t.idx, t.hash FROM audit_tree t
             JOIN unnest($1::smallint[], $2::bigint[]) AS w(level, idx)
               ON t.level = w.level AND t.idx = w.idx",
            &[&levels, &idxs],
        )
        .await
        .map_err(map_err)?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in rows {
        let level: i16 = r.get(0);
        let level = u8::try_from(level).map_err(|_| StoreError::Corrupt("tree level".into()))?;
        out.insert((level, to_u64(r.get(1))?), hash(r.get(2))?);
    }
    Ok(out)
}

#[async_trait]
impl TlogStore for PgStore {
    async fn integrate(&self, max: usize) -> Result<Option<(TreeHead, usize)>, StoreError> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(map_err)?;
        let locked: bool = tx
            .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&INTEGRATOR_LOCK])
            .await
            .map_err(map_err)?
            .get(0);
        if !locked {
            return Ok(None);
        }
        let size = to_u64(
            tx.query_one("SELECT size FROM audit_tree_size", &[])
                .await
                .map_err(map_err)?
                .get(0),
        )?;
        let limit = i64::try_from(max).unwrap_or(i64::MAX);
        let rows = tx
            .query(
                &format!("SELECT {COLUMNS} FROM audit_log WHERE leaf IS NULL ORDER BY id LIMIT $1"),
                &[&limit],
            )
            .await
            .map_err(map_err)?;
        let records = rows.iter().map(record).collect::<Result<Vec<_>, _>>()?;
        let edge = hashes_in(&*tx, &merkle::root_needs(size)).await?;
        let batch = fold_batch(size, &records, &edge)
            .map_err(|e| StoreError::Corrupt(format!("audit tree: {e}")))?;
        if records.is_empty() {
            return Ok(Some((batch.head, 0)));
        }
        let mut levels = Vec::with_capacity(batch.hashes.len());
        let mut idxs = Vec::with_capacity(batch.hashes.len());
        let mut values = Vec::with_capacity(batch.hashes.len());
        for ((l, i), h) in &batch.hashes {
            levels.push(i16::from(*l));
            idxs.push(to_i64(*i)?);
            values.push(h.to_vec());
        }
        let ids: Vec<i64> = batch.leaves.iter().map(|(id, _)| *id).collect();
        let leaves = batch
            .leaves
            .iter()
            .map(|(_, l)| to_i64(*l))
            .collect::<Result<Vec<_>, _>>()?;
        let new_size = to_i64(batch.head.size)?;
        // Three statements, sent together.
        let p1: [&(dyn ToSql + Sync); 3] = [&levels, &idxs, &values];
        let p2: [&(dyn ToSql + Sync); 2] = [&ids, &leaves];
        let p3: [&(dyn ToSql + Sync); 1] = [&new_size];
        let (a, b, s) = futures::join!(
            tx.execute(
                "INSERT INTO audit_tree (level, idx, hash)
                 SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])",
                &p1,
            ),
            tx.execute(
                "UPDATE audit_log SET leaf = w.leaf
                 FROM unnest($1::bigint[], $2::bigint[]) AS w(id, leaf)
                 WHERE audit_log.id = w.id",
                &p2,
            ),
            tx.execute("UPDATE audit_tree_size SET size = $1", &p3),
        );
        a.map_err(map_err)?;
        b.map_err(map_err)?;
        s.map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(Some((batch.head, records.len())))
    }

    async fn tree_size(&self) -> Result<u64, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_one("SELECT size FROM audit_tree_size", &[])
            .await
            .map_err(map_err)?;
        to_u64(row.get(0))
    }

    async fn tree_hashes(&self, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>, StoreError> {
        let c = self.client().await?;
        hashes_in(&**c, ids).await
    }

    async fn leaves(&self) -> Result<Vec<(u64, okaz_core::audit::StoredRecord)>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT {COLUMNS}, leaf FROM audit_log WHERE leaf IS NOT NULL ORDER BY leaf"
                ),
                &[],
            )
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|r| Ok((to_u64(r.get(17))?, record(r)?)))
            .collect()
    }

    async fn leaf_of(&self, record_id: i64) -> Result<Option<u64>, StoreError> {
        let c = self.client().await?;
        let row = c
            .query_opt("SELECT leaf FROM audit_log WHERE id = $1", &[&record_id])
            .await
            .map_err(map_err)?;
        row.and_then(|r| r.get::<_, Option<i64>>(0))
            .map(to_u64)
            .transpose()
    }

    async fn chain_heads(&self) -> Result<Vec<ChainHead>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT chain, seq, hash FROM audit_chain_heads ORDER BY chain",
                &[],
            )
            .await
            .map_err(map_err)?;
        Ok(rows
            .iter()
            .map(|r| ChainHead {
                chain: r.get(0),
                seq: r.get(1),
                hash: r.get(2),
            })
            .collect())
    }

    async fn save_checkpoint(&self, size: u64, note: &str) -> Result<(), StoreError> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO audit_checkpoints (size, note) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&to_i64(size)?, &note],
        )
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn save_cosignature(
        &self,
        size: u64,
        witness: &str,
        signature: &str,
    ) -> Result<(), StoreError> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO audit_cosignatures (size, witness, signature) VALUES ($1, $2, $3)
             ON CONFLICT (size, witness) DO UPDATE SET signature = EXCLUDED.signature",
            &[&to_i64(size)?, &witness, &signature],
        )
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn checkpoints(&self, limit: u32) -> Result<Vec<StoredCheckpoint>, StoreError> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT c.size, c.note,
                        coalesce(array_agg(s.witness) FILTER (WHERE s.witness IS NOT NULL), '{}'),
                        coalesce(array_agg(s.signature) FILTER (WHERE s.witness IS NOT NULL), '{}')
                 FROM audit_checkpoints c LEFT JOIN audit_cosignatures s ON s.size = c.size
                 GROUP BY c.size, c.note ORDER BY c.size DESC LIMIT $1",
                &[&i64::from(limit)],
            )
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                let names: Vec<String> = r.get(2);
                let sigs: Vec<String> = r.get(3);
                Ok(StoredCheckpoint {
                    size: to_u64(r.get(0))?,
                    note: r.get(1),
                    cosignatures: names.into_iter().zip(sigs).collect(),
                })
            })
            .collect()
    }
}
