use raftlab::sim::{SimConfig, Simulation};
fn main() {
    let mut sim = Simulation::new(
        0,
        SimConfig {
            nodes: 3,
            ..Default::default()
        },
    )
    .unwrap();
    sim.run_until_pred(1_000_000, |s| s.leader().is_some());
    let l1 = sim.leader().unwrap();
    println!("leader {l1} at {}", sim.now());
    let start = sim.trace().len();
    sim.isolate(l1).unwrap();
    sim.run_for(1_000_000);
    for e in sim.trace().since(start) {
        if !matches!(
            e.event,
            raftlab::sim::trace::TraceEvent::Sent { .. }
                | raftlab::sim::trace::TraceEvent::Delivered { .. }
                | raftlab::sim::trace::TraceEvent::Dropped { .. }
        ) {
            println!("{} {:?}", e.at_us, e.event);
        }
    }
    println!("{:?}", sim.leaders());
}
