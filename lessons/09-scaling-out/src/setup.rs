//! The lesson's servers, from the helper crate's topology builder, handed to the steps as
//! plain URLs and actions. Not part of the teaching: a service gets its servers'
//! addresses from its configuration.

use std::sync::Arc;

use anyhow::Result;
use workbook::{Flavor as ServerFlavor, Topology};

use crate::{DATABASE, Flavor, NodeControl};

/// The lesson's flavor for the topology's servers.
pub fn flavor(topology: &Topology) -> Flavor {
    match topology.flavor() {
        ServerFlavor::MariaDb => Flavor::MariaDb,
        ServerFlavor::MySql => Flavor::MySql,
    }
}

/// Every node of `topology` as a [`NodeControl`] on the lesson's database.
pub fn controls(topology: &Arc<Topology>) -> Vec<NodeControl> {
    (0..topology.nodes().len())
        .map(|i| {
            let node = &topology.nodes()[i];
            let (host, port) = node.peer_address();
            let (a, b, c) = (topology.clone(), topology.clone(), topology.clone());
            NodeControl {
                name: node.name().to_owned(),
                url: node.database_url(DATABASE),
                peer: (host.to_owned(), port),
                kill: Arc::new(move || a.nodes()[i].kill()),
                cut: Arc::new(move || b.nodes()[i].disconnect()),
                reconnect: Arc::new(move || c.nodes()[i].reconnect()),
            }
        })
        .collect()
}

/// What the steps run against: `topology`'s nodes, and the sizes.
pub fn context(topology: &Arc<Topology>, sizes: &crate::Sizes) -> crate::Ctx {
    crate::Ctx {
        flavor: flavor(topology),
        nodes: controls(topology),
        sizes: sizes.clone(),
        real_cuts: topology.cuts_for_real(),
    }
}

/// Starts `start`'s topology, says what it is on stderr, and creates the lesson's tables.
pub async fn start<F, Fut>(start: F) -> Result<(Arc<Topology>, String)>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Topology>>,
{
    let topology = Arc::new(start().await?);
    let url = topology.primary().url().to_owned();
    crate::create_tables(&url).await?;
    let pool = workbook::connect(&url).await?;
    let version = workbook::server_version(&pool).await?;
    pool.close().await;
    eprintln!(
        "lesson-9: {}; server version {version}",
        topology.describe()
    );
    Ok((topology, version))
}

/// Writes the JSON and the chart where `--results` says (by default `results/` beside the
/// lesson), unless `--no-results`; says where on stderr.
pub fn write_results(
    sizes: &crate::Sizes,
    flavor: Flavor,
    results: &crate::report::Results<'_>,
) -> Result<()> {
    if sizes.no_results {
        return Ok(());
    }
    let dir = sizes
        .results
        .clone()
        .unwrap_or_else(crate::default_results_dir);
    for path in crate::report::write_results(&dir, flavor, results)? {
        eprintln!("lesson-9: wrote {}", path.display());
    }
    Ok(())
}
