//! A contender's own pools and server: a peer's `/book`, or maitred end to end (intake,
//! RabbitMQ, the worker). The steady and peak-event benchmarks start and stop them alike.

use super::*;
use crate::peers::{peer_book, Peer, PeerState};

pub(crate) struct Served {
    /// Where bookings are posted.
    pub(crate) url: String,
    pool: PgPool,
    worker_pool: PgPool,
    peer: Option<(
        tokio::task::JoinHandle<()>,
        tokio_util::sync::CancellationToken,
    )>,
    maitred: Option<Maitred>,
}

/// Opens the contender's pools of `pool` connections in all (maitred's workers get
/// `worker_pool` of them to themselves, as `maitred up` gives them a pool of their own; 0: one
/// shared pool) and starts its server.
pub(crate) async fn serve_contender(
    name: &str,
    db_url: &str,
    (pool_size, worker_pool_size): (u32, u32),
    (partitions, prefetch): (u16, u16),
) -> Served {
    let split = name == "maitred" && worker_pool_size > 0 && worker_pool_size < pool_size;
    let intake_size = if split {
        pool_size - worker_pool_size
    } else {
        pool_size
    };
    let pool = fair_pool(db_url, intake_size).await;
    let worker_pool = if split {
        fair_pool(db_url, worker_pool_size).await
    } else {
        pool.clone()
    };
    if let Some(peer) = Peer::named(name) {
        let app = Router::new()
            .route("/book", post(peer_book))
            .with_state(PeerState {
                peer,
                pool: pool.clone(),
            });
        let (addr, server, stop) = serve(app).await;
        return Served {
            url: format!("http://{addr}/book"),
            pool,
            worker_pool,
            peer: Some((server, stop)),
            maitred: None,
        };
    }
    let maitred = Maitred::start(
        Store::new(pool.clone()),
        Store::new(worker_pool.clone()),
        partitions,
        1_000_000,
        prefetch,
    )
    .await;
    Served {
        url: maitred.url.clone(),
        pool,
        worker_pool,
        peer: None,
        maitred: Some(maitred),
    }
}

impl Served {
    /// Stops the server (and maitred's tasks and topology), then closes the pools.
    pub(crate) async fn stop(self) {
        if let Some((server, stop)) = self.peer {
            stop.cancel();
            server.await.unwrap();
        }
        if let Some(maitred) = self.maitred {
            maitred.stop().await;
        }
        self.pool.close().await;
        self.worker_pool.close().await;
    }
}
