//! The transparency log's tables: leaf indexes, tree hashes, checkpoints.

use std::collections::HashMap;

use async_trait::async_trait;
use okaz_core::audit::StoredRecord;
use okaz_core::ports::StoreError;
use okaz_core::tlog::{fold_batch, ChainHead, StoredCheckpoint, TlogStore, TreeHead};
use okaz_tlog::merkle::{self, Hash, NodeId};
use rusqlite::{params, Connection};

use super::audit::{record, COLUMNS};
use super::{all, col, exec, one, SqliteStore};

fn to_u64(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt("a negative tree index".into()))
}

fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Corrupt("a tree index past i64".into()))
}

fn hashes_in(c: &Connection, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>, StoreError> {
    let mut out = HashMap::with_capacity(ids.len());
    for &(level, idx) in ids {
        let h = one(
            c,
            "SELECT hash FROM audit_tree WHERE level = ?1 AND idx = ?2",
            params![level, to_i64(idx)?],
            |r| col::<Vec<u8>>(r, 0),
        )?;
        if let Some(h) = h {
            let h = Hash::try_from(h.as_slice())
                .map_err(|_| StoreError::Corrupt("a tree hash is not 32 bytes".into()))?;
            out.insert((level, idx), h);
        }
    }
    Ok(out)
}

fn size(c: &Connection) -> Result<u64, StoreError> {
    to_u64(
        one(c, "SELECT size FROM audit_tree_size", [], |r| {
            col::<i64>(r, 0)
        })?
        .unwrap_or(0),
    )
}

#[async_trait]
impl TlogStore for SqliteStore {
    async fn integrate(&self, max: usize) -> Result<Option<(TreeHead, usize)>, StoreError> {
        // The IMMEDIATE write transaction is the integrator lock: one
        // writer per database file, across processes.
        self.write(move |tx| {
            let size = size(tx)?;
            let limit = i64::try_from(max).unwrap_or(i64::MAX);
            let records: Vec<StoredRecord> = all(
                tx,
                &format!("SELECT {COLUMNS} FROM audit_log WHERE leaf IS NULL ORDER BY id LIMIT ?1"),
                [limit],
                record,
            )?;
            let edge = hashes_in(tx, &merkle::root_needs(size))?;
            let batch = fold_batch(size, &records, &edge)
                .map_err(|e| StoreError::Corrupt(format!("audit tree: {e}")))?;
            for ((level, idx), h) in &batch.hashes {
                exec(
                    tx,
                    "INSERT INTO audit_tree (level, idx, hash) VALUES (?1, ?2, ?3)",
                    params![level, to_i64(*idx)?, h.to_vec()],
                )?;
            }
            for (id, leaf) in &batch.leaves {
                exec(
                    tx,
                    "UPDATE audit_log SET leaf = ?2 WHERE id = ?1",
                    params![id, to_i64(*leaf)?],
                )?;
            }
            exec(
                tx,
                "UPDATE audit_tree_size SET size = ?1",
                [to_i64(batch.head.size)?],
            )?;
            Ok(Some((batch.head, records.len())))
        })
        .await
    }

    async fn tree_size(&self) -> Result<u64, StoreError> {
        self.read(size).await
    }

    async fn tree_hashes(&self, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>, StoreError> {
        let ids = ids.to_vec();
        self.read(move |c| hashes_in(c, &ids)).await
    }

    async fn leaves(&self) -> Result<Vec<(u64, StoredRecord)>, StoreError> {
        self.read(|c| {
            all(
                c,
                &format!(
                    "SELECT {COLUMNS}, leaf FROM audit_log WHERE leaf IS NOT NULL ORDER BY leaf"
                ),
                [],
                |r| Ok((to_u64(col(r, 17)?)?, record(r)?)),
            )
        })
        .await
    }

    async fn leaf_of(&self, record_id: i64) -> Result<Option<u64>, StoreError> {
        self.read(move |c| {
            one(
                c,
                "SELECT leaf FROM audit_log WHERE id = ?1",
                [record_id],
                |r| col::<Option<i64>>(r, 0),
            )?
            .flatten()
            .map(to_u64)
            .transpose()
        })
        .await
    }

    async fn chain_heads(&self) -> Result<Vec<ChainHead>, StoreError> {
        self.read(|c| {
            all(
                c,
                "SELECT chain, seq, hash FROM audit_chain_heads ORDER BY chain",
                [],
                |r| {
                    Ok(ChainHead {
                        chain: col(r, 0)?,
                        seq: col(r, 1)?,
                        hash: col(r, 2)?,
                    })
                },
            )
        })
        .await
    }

    async fn save_checkpoint(&self, size: u64, note: &str) -> Result<(), StoreError> {
        let note = note.to_string();
        let size = to_i64(size)?;
        self.write(move |tx| {
            exec(
                tx,
                "INSERT INTO audit_checkpoints (size, note) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![size, note],
            )
            .map(|_| ())
        })
        .await
    }

    async fn save_cosignature(
        &self,
        size: u64,
        witness: &str,
        signature: &str,
    ) -> Result<(), StoreError> {
        let (witness, signature) = (witness.to_string(), signature.to_string());
        let size = to_i64(size)?;
        self.write(move |tx| {
            exec(
                tx,
                "INSERT INTO audit_cosignatures (size, witness, signature) VALUES (?1, ?2, ?3)
                 ON CONFLICT (size, witness) DO UPDATE SET signature = excluded.signature",
                params![size, witness, signature],
            )
            .map(|_| ())
        })
        .await
    }

    async fn checkpoints(&self, limit: u32) -> Result<Vec<StoredCheckpoint>, StoreError> {
        self.read(move |c| {
            let cps: Vec<(i64, String)> = all(
                c,
                "SELECT size, note FROM audit_checkpoints ORDER BY size DESC LIMIT ?1",
                [i64::from(limit)],
                |r| Ok((col(r, 0)?, col(r, 1)?)),
            )?;
            cps.into_iter()
                .map(|(size, note)| {
                    let cosignatures = all(
                        c,
                        "SELECT witness, signature FROM audit_cosignatures WHERE size = ?1
                         ORDER BY witness",
                        [size],
                        |r| Ok((col(r, 0)?, col(r, 1)?)),
                    )?;
                    Ok(StoredCheckpoint {
                        size: to_u64(size)?,
                        note,
                        cosignatures,
                    })
                })
                .collect()
        })
        .await
    }
}
