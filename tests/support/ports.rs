//! Loopback ports for the servers the tests start in other processes (`coffer serve`, the
//! web servers, SeaweedFS, chromedriver).
//!
//! Binding port 0 and letting go finds a port that is free *now*, taken from the kernel's
//! ephemeral range, which every outgoing connection of every process on the machine also
//! draws from. Between the test letting go and the server binding it, a client connection
//! or another test's pick may take it, and the server fails with "address in use" (seen
//! with SeaweedFS, which binds a dozen ports one after the other while it starts). The
//! ports here come from below the ephemeral range, which the kernel never hands out by
//! itself, chosen at random (test processes run side by side) and checked free.

use std::net::TcpListener;

/// The lowest port handed out.
const FLOOR: u16 = 10_000;

/// A loopback port that no server listens on, for a server started by the test to take.
pub fn free_port() -> u16 {
    let below = ephemeral_start();
    if below > FLOOR + 1_000 {
        for _ in 0..1_000 {
            let port = rand::random_range(FLOOR..below);
            if TcpListener::bind(("127.0.0.1", port)).is_ok() {
                return port;
            }
        }
    }
    // No room below the ephemeral range: the kernel's pick.
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The first port of the kernel's ephemeral range (Linux's default when it cannot be read).
fn ephemeral_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}
