//! `oresund c4gh` against the Python `crypt4gh` 1.8.6 CLI, both directions: key files, encrypt
//! and decrypt (several readers), reencrypt, ranges and rearrange. Fails if the tool is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common::*;

const HINT: &str = "pip install crypt4gh==1.8.6";
const PASSPHRASE: &str = "c4gh cli test passphrase";

struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    fn new() -> Self {
        require("crypt4gh", HINT);
        require("crypt4gh-keygen", HINT);
        Dir { tmp: tempfile::tempdir().unwrap() }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// A plaintext of several 64 KiB segments.
    fn plaintext(&self) -> PathBuf {
        let path = self.path("plain.bin");
        let bytes: Vec<u8> = (0..300_007u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

/// Runs a shell command with C4GH_PASSPHRASE set, asserting success.
fn shell(script: &str) -> Output {
    let out = Command::new("bash")
        .arg("-o")
        .arg("pipefail")
        .arg("-c")
        .arg(script)
        .env("C4GH_PASSPHRASE", PASSPHRASE)
        .env("OR", env!("CARGO_BIN_EXE_oresund"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "`{script}` failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn key_files_and_files_interoperate_both_ways() {
    let d = Dir::new();
    let plain = d.plaintext();
    // Ours: alice (sealed with C4GH_PASSPHRASE) and bob (--nocrypt); Python's: carol (sealed), dan.
    shell(&format!("$OR c4gh keygen --sk {} --pk {}", p(&d.path("alice.sec")), p(&d.path("alice.pub"))));
    shell(&format!("$OR c4gh keygen --nocrypt --sk {} --pk {}", p(&d.path("bob.sec")), p(&d.path("bob.pub"))));
    // crypt4gh-keygen reads a new passphrase with getpass: without a terminal (setsid), from stdin.
    shell(&format!(
        "printf '%s\\n%s\\n' \"$C4GH_PASSPHRASE\" \"$C4GH_PASSPHRASE\" | setsid -w crypt4gh-keygen -f --sk {} --pk {} >/dev/null 2>&1",
        p(&d.path("carol.sec")),
        p(&d.path("carol.pub"))
    ));
    shell(&format!(
        "crypt4gh-keygen -f --nocrypt --sk {} --pk {} >/dev/null 2>&1",
        p(&d.path("dan.sec")),
        p(&d.path("dan.pub"))
    ));
    let mode = shell(&format!("stat -c %a {}", p(&d.path("alice.sec"))));
    assert_eq!(String::from_utf8_lossy(&mode.stdout).trim(), "600");
    let out = run(&["c4gh", "keygen", "--nocrypt", "--sk", p(&d.path("alice.sec")), "--pk", p(&d.path("x.pub"))]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists; pass -f"), "keys are never overwritten silently");

    // Ours encrypts for alice, carol and dan; Python decrypts with each (carol's and alice's sealed).
    shell(&format!(
        "$OR c4gh encrypt --recipient_pk {} --recipient_pk {} --recipient_pk {} < {} > {}",
        p(&d.path("alice.pub")),
        p(&d.path("carol.pub")),
        p(&d.path("dan.pub")),
        p(&plain),
        p(&d.path("ours.c4gh"))
    ));
    for reader in ["alice", "carol", "dan"] {
        let out = shell(&format!(
            "crypt4gh decrypt --sk {} < {}",
            p(&d.path(&format!("{reader}.sec"))),
            p(&d.path("ours.c4gh"))
        ));
        assert!(out.stdout == bytes(&plain), "Python as {reader}");
    }
    // Python encrypts (with a sender key) for bob and carol; ours decrypts with each.
    shell(&format!(
        "crypt4gh encrypt --sk {} --recipient_pk {} --recipient_pk {} < {} > {}",
        p(&d.path("dan.sec")),
        p(&d.path("bob.pub")),
        p(&d.path("carol.pub")),
        p(&plain),
        p(&d.path("python.c4gh"))
    ));
    for reader in ["bob", "carol"] {
        let out = shell(&format!(
            "$OR c4gh decrypt --sk {} < {}",
            p(&d.path(&format!("{reader}.sec"))),
            p(&d.path("python.c4gh"))
        ));
        assert!(out.stdout == bytes(&plain), "ours as {reader}");
    }
    // Ours with a sender key: Python checks nothing about the sender, but must accept it.
    shell(&format!(
        "$OR c4gh encrypt --sk {} --recipient_pk {} < {} > {}",
        p(&d.path("carol.sec")),
        p(&d.path("dan.pub")),
        p(&plain),
        p(&d.path("signed.c4gh"))
    ));
    let out = shell(&format!("crypt4gh decrypt --sk {} < {}", p(&d.path("dan.sec")), p(&d.path("signed.c4gh"))));
    assert!(out.stdout == bytes(&plain));

    // A reader the file was not encrypted for gets a clear error.
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("$OR c4gh decrypt --sk {} < {} > /dev/null", p(&d.path("bob.sec")), p(&d.path("ours.c4gh"))))
        .env("OR", env!("CARGO_BIN_EXE_oresund"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("no header packet could be decrypted"), "{stderr}");
    // A sealed key without C4GH_PASSPHRASE and without a terminal: say what to set.
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("$OR c4gh decrypt --sk {} < {} > /dev/null", p(&d.path("alice.sec")), p(&d.path("ours.c4gh"))))
        .env("OR", env!("CARGO_BIN_EXE_oresund"))
        .env_remove("C4GH_PASSPHRASE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("C4GH_PASSPHRASE"), "{stderr}");
}

#[test]
fn reencrypt_ranges_and_rearrange_interoperate() {
    let d = Dir::new();
    let plain = d.plaintext();
    let original = bytes(&plain);
    for name in ["alice", "bob"] {
        shell(&format!(
            "$OR c4gh keygen --nocrypt --sk {} --pk {}",
            p(&d.path(&format!("{name}.sec"))),
            p(&d.path(&format!("{name}.pub")))
        ));
    }
    shell(&format!(
        "crypt4gh-keygen -f --nocrypt --sk {} --pk {} >/dev/null 2>&1",
        p(&d.path("py.sec")),
        p(&d.path("py.pub"))
    ));

    // Reencrypt, ours on Python's file and Python's on ours: the body is copied unchanged.
    shell(&format!(
        "crypt4gh encrypt --recipient_pk {} < {} > {}",
        p(&d.path("alice.pub")),
        p(&plain),
        p(&d.path("a.c4gh"))
    ));
    shell(&format!(
        "$OR c4gh reencrypt --sk {} --recipient_pk {} --trim < {} > {}",
        p(&d.path("alice.sec")),
        p(&d.path("py.pub")),
        p(&d.path("a.c4gh")),
        p(&d.path("for-py.c4gh"))
    ));
    let (a, for_py) = (bytes(&d.path("a.c4gh")), bytes(&d.path("for-py.c4gh")));
    assert_eq!(a[a.len() - 300_000..], for_py[for_py.len() - 300_000..], "body unchanged");
    let out = shell(&format!("crypt4gh decrypt --sk {} < {}", p(&d.path("py.sec")), p(&d.path("for-py.c4gh"))));
    assert!(out.stdout == original);
    shell(&format!(
        "crypt4gh reencrypt --sk {} --recipient_pk {} < {} > {}",
        p(&d.path("py.sec")),
        p(&d.path("bob.pub")),
        p(&d.path("for-py.c4gh")),
        p(&d.path("for-bob.c4gh"))
    ));
    let out = shell(&format!("$OR c4gh decrypt --sk {} < {}", p(&d.path("bob.sec")), p(&d.path("for-bob.c4gh"))));
    assert!(out.stdout == original);

    // Ranges: ours takes START..END with END excluded; Python 1.8.6 stops one byte earlier.
    shell(&format!(
        "$OR c4gh encrypt --recipient_pk {} --range 70000-140001 < {} > {}",
        p(&d.path("py.pub")),
        p(&plain),
        p(&d.path("r.c4gh"))
    ));
    let out = shell(&format!("crypt4gh decrypt --sk {} < {}", p(&d.path("py.sec")), p(&d.path("r.c4gh"))));
    assert!(out.stdout[..] == original[70_000..140_001]);
    shell(&format!(
        "crypt4gh encrypt --recipient_pk {} --range 100-5000 < {} > {}",
        p(&d.path("alice.pub")),
        p(&plain),
        p(&d.path("pr.c4gh"))
    ));
    let out = shell(&format!("$OR c4gh decrypt --sk {} < {}", p(&d.path("alice.sec")), p(&d.path("pr.c4gh"))));
    assert!(out.stdout[..] == original[100..4_999], "Python's --range 100-5000 is bytes 100..4999");

    // Rearrange: ours cuts Python's file (edit list + only the segments needed), Python reads it.
    shell(&format!(
        "$OR c4gh rearrange --sk {} --range 70000-200000 < {} > {}",
        p(&d.path("alice.sec")),
        p(&d.path("a.c4gh")),
        p(&d.path("cut.c4gh"))
    ));
    assert!(bytes(&d.path("cut.c4gh")).len() < a.len() - 100_000, "segments 0 and 4 are dropped");
    shell(&format!(
        "$OR c4gh reencrypt --sk {} --recipient_pk {} < {} > {}",
        p(&d.path("alice.sec")),
        p(&d.path("py.pub")),
        p(&d.path("cut.c4gh")),
        p(&d.path("cut-py.c4gh"))
    ));
    let out = shell(&format!("crypt4gh decrypt --sk {} < {}", p(&d.path("py.sec")), p(&d.path("cut-py.c4gh"))));
    assert!(out.stdout[..] == original[70_000..200_000]);
    // Python cuts a file of ours; ours reads its edit list.
    shell(&format!(
        "$OR c4gh encrypt --recipient_pk {} < {} > {}",
        p(&d.path("py.pub")),
        p(&plain),
        p(&d.path("o.c4gh"))
    ));
    shell(&format!(
        "crypt4gh rearrange --sk {} --range 1000-131073 < {} > {}",
        p(&d.path("py.sec")),
        p(&d.path("o.c4gh")),
        p(&d.path("pcut.c4gh"))
    ));
    shell(&format!(
        "crypt4gh reencrypt --sk {} --recipient_pk {} < {} > {}",
        p(&d.path("py.sec")),
        p(&d.path("bob.pub")),
        p(&d.path("pcut.c4gh")),
        p(&d.path("pcut-bob.c4gh"))
    ));
    let out = shell(&format!("$OR c4gh decrypt --sk {} < {}", p(&d.path("bob.sec")), p(&d.path("pcut-bob.c4gh"))));
    assert!(out.stdout[..] == original[1_000..131_072], "Python's rearrange --range 1000-131073");
}
