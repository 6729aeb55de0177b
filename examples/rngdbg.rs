use raftlab::rng::Rng;
fn main() {
    let mut a = Rng::new(Rng::derive(0, 2000));
    let mut b = Rng::new(Rng::derive(0, 3000));
    let mut c = Rng::new(12345);
    let (mut s1, mut s2) = (0f64, 0f64);
    for _ in 0..10000 {
        let (x, y, z) = (
            a.next_u64() % 150001,
            b.next_u64() % 150001,
            c.next_u64() % 150001,
        );
        s1 += (x as f64 - y as f64).abs();
        s2 += (x as f64 - z as f64).abs();
    }
    println!("{} {}", s1 / 10000.0, s2 / 10000.0);
    let mut a = Rng::new(Rng::derive(0, 2000));
    let mut b = Rng::new(Rng::derive(0, 3000));
    for _ in 0..4 {
        println!("{:064b}\n{:064b}\n", a.next_u64(), b.next_u64());
    }
}
