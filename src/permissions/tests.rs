//! Tests: django-filer black-box cases P1–P25 at engine level, edge cases, properties, timing.

use std::collections::HashSet;

use super::*;

// ---------------------------------------------------------------------------------------------
// Fixtures

const ON: Policy = Policy {
    enable_permissions: true,
};
const OFF: Policy = Policy {
    enable_permissions: false,
};

/// Superuser `admin`.
const ADMIN: UserId = 1;
/// `test1` (staff upstream), member of `G1`.
const TEST1: UserId = 2;
/// `test2` (non-staff upstream), member of `G2`.
const TEST2: UserId = 3;
/// Somebody else (owner of things the test users do not own).
const OTHER: UserId = 9;
const G1: GroupId = 10;
const G2: GroupId = 20;
/// `test_folder`, `test_folder2` at root.
const TF: FolderId = 100;
const TF2: FolderId = 200;

fn node(id: FolderId, parent: Option<FolderId>, owner: Option<UserId>) -> FolderNode {
    FolderNode {
        id,
        parent_id: parent,
        owner_id: owner,
    }
}

fn g(c: u8) -> Grant {
    match c {
        b'A' => Grant::Allow,
        b'D' => Grant::Deny,
        _ => Grant::Inherit,
    }
}

/// `grants` is three chars for read/edit/add_children: `A`llow, `D`eny, `-` inherit.
fn rule(
    id: RuleId,
    folder: Option<FolderId>,
    scope: Scope,
    principal: Principal,
    grants: &str,
) -> Rule {
    let b = grants.as_bytes();
    Rule {
        id,
        folder_id: folder,
        scope,
        principal,
        read: g(b[0]),
        edit: g(b[1]),
        add_children: g(b[2]),
    }
}

fn user(id: UserId) -> Actor {
    Actor {
        user_id: id,
        is_active: true,
        is_superuser: id == ADMIN,
    }
}

fn std_members() -> Vec<(GroupId, UserId)> {
    vec![(G1, TEST1), (G2, TEST2)]
}

fn std_folders() -> Vec<FolderNode> {
    vec![node(TF, None, None), node(TF2, None, None)]
}

#[derive(Clone, Copy, Debug)]
enum Who {
    Anon,
    /// Active user; `ADMIN` is a superuser.
    U(UserId),
}

#[derive(Clone, Copy, Debug)]
enum Target {
    Folder(FolderId),
    File(Option<UserId>, Option<FolderId>),
}

struct Check(Who, Target, Right, bool);

struct Case {
    id: &'static str,
    policy: Policy,
    folders: Vec<FolderNode>,
    rules: Vec<Rule>,
    members: Vec<(GroupId, UserId)>,
    checks: Vec<Check>,
}

fn base(id: &'static str) -> Case {
    Case {
        id,
        policy: ON,
        folders: std_folders(),
        rules: vec![],
        members: std_members(),
        checks: vec![],
    }
}

use Right::{AddChildren as ADD, Edit as EDIT, Read as READ};
use Target::{File, Folder};
use Who::{Anon, U};

/// The P11–P14 tree: `bar` (owner admin) with subfolders `foo` (owned by test1), `bar`, `baz`
/// and a file `spam` (owner admin).
const BAR: FolderId = 400;
const FOO: FolderId = 401;
const BAR2: FolderId = 402;
const BAZ: FolderId = 403;
const SPAM: Target = File(Some(ADMIN), Some(BAR));

fn listing_folders() -> Vec<FolderNode> {
    vec![
        node(BAR, None, Some(ADMIN)),
        node(FOO, Some(BAR), Some(TEST1)),
        node(BAR2, Some(BAR), Some(ADMIN)),
        node(BAZ, Some(BAR), Some(ADMIN)),
    ]
}

/// P19/P20 chain root -> child -> grandchild.
const ROOT: FolderId = 500;
const CHILD: FolderId = 501;
const GRAND: FolderId = 502;

fn chain() -> Vec<FolderNode> {
    vec![
        node(ROOT, None, None),
        node(CHILD, Some(ROOT), None),
        node(GRAND, Some(CHILD), None),
    ]
}

/// The black-box cases of the reference §2.7, re-expressed at engine level. Django model
/// permissions (change_folder, add_file, can_use_directory_listing, delete perms) do not
/// exist in Coffer, caches do not exist, and HTTP outcomes are replaced by the decision the
/// handler would consult. "After changing memberships / clearing caches" = a second case
/// built from a fresh snapshot.
fn cases() -> Vec<Case> {
    let p = Principal::Group;
    let u = Principal::User;
    vec![
        // P1: superuser reads any folder.
        Case {
            checks: vec![
                Check(U(ADMIN), Folder(TF), READ, true),
                Check(U(ADMIN), Folder(TF2), EDIT, true),
            ],
            ..base("P1")
        },
        // P2: perms on, user with nothing.
        Case {
            checks: vec![Check(U(TEST1), Folder(TF), READ, false)],
            ..base("P2")
        },
        // P3: perms off, user with nothing: every right on every folder.
        Case {
            policy: OFF,
            checks: vec![
                Check(U(TEST1), Folder(TF), READ, true),
                Check(U(TEST2), Folder(TF2), EDIT, true),
                Check(U(TEST2), Folder(TF2), ADD, true),
            ],
            ..base("P3")
        },
        // P4: folder owner, no rules.
        Case {
            folders: vec![node(TF, None, Some(TEST1))],
            checks: vec![
                Check(U(TEST1), Folder(TF), READ, true),
                Check(U(TEST2), Folder(TF), READ, false),
            ],
            ..base("P4")
        },
        // P5 (first half): CHILDREN rows per group.
        Case {
            rules: vec![
                rule(1, Some(TF), Scope::Children, p(G1), "ADD"),
                rule(2, Some(TF2), Scope::Children, p(G2), "ADD"),
            ],
            checks: vec![
                Check(U(TEST1), Folder(TF), READ, true),
                Check(U(TEST1), Folder(TF2), READ, false),
                Check(U(TEST2), Folder(TF), READ, false),
                Check(U(TEST2), Folder(TF2), READ, true),
                Check(U(TEST1), Folder(TF), EDIT, false),
            ],
            ..base("P5a")
        },
        // P5 (second half): both users in both groups (rebuilt snapshot = "caches cleared").
        Case {
            rules: vec![
                rule(1, Some(TF), Scope::Children, p(G1), "ADD"),
                rule(2, Some(TF2), Scope::Children, p(G2), "ADD"),
            ],
            members: vec![(G1, TEST1), (G2, TEST1), (G1, TEST2), (G2, TEST2)],
            checks: vec![
                Check(U(TEST1), Folder(TF), READ, true),
                Check(U(TEST1), Folder(TF2), READ, true),
                Check(U(TEST2), Folder(TF), READ, true),
                Check(U(TEST2), Folder(TF2), READ, true),
            ],
            ..base("P5b")
        },
        // P6: two CHILDREN rows on one folder; deny wins even after joining the allowing group.
        Case {
            rules: vec![
                rule(1, Some(TF), Scope::Children, p(G1), "ADD"),
                rule(2, Some(TF), Scope::Children, p(G2), "AAA"),
            ],
            members: vec![(G1, TEST1)],
            checks: vec![
                Check(U(TEST1), Folder(TF), READ, true),
                Check(U(TEST1), Folder(TF), EDIT, false),
            ],
            ..base("P6a")
        },
        Case {
            rules: vec![
                rule(1, Some(TF), Scope::Children, p(G1), "ADD"),
                rule(2, Some(TF), Scope::Children, p(G2), "AAA"),
            ],
            members: vec![(G1, TEST1), (G2, TEST1)],
            checks: vec![
                Check(U(TEST1), Folder(TF), READ, true),
                Check(U(TEST1), Folder(TF), EDIT, false),
                Check(U(TEST1), Folder(TF), ADD, false),
            ],
            ..base("P6b")
        },
        // P7: as P6 but group1's edit is "inherit" (no opinion).
        Case {
            rules: vec![
                rule(1, Some(TF), Scope::Children, p(G1), "A-D"),
                rule(2, Some(TF), Scope::Children, p(G2), "AAA"),
            ],
            members: vec![(G1, TEST1)],
            checks: vec![Check(U(TEST1), Folder(TF), EDIT, false)],
            ..base("P7a")
        },
        Case {
            rules: vec![
                rule(1, Some(TF), Scope::Children, p(G1), "A-D"),
                rule(2, Some(TF), Scope::Children, p(G2), "AAA"),
            ],
            members: vec![(G1, TEST1), (G2, TEST1)],
            checks: vec![
                Check(U(TEST1), Folder(TF), EDIT, true),
                Check(U(TEST1), Folder(TF), ADD, false),
            ],
            ..base("P7b")
        },
        // P8: unsorted file owned by the superuser: listing visibility = read on the file.
        Case {
            checks: vec![
                Check(U(ADMIN), File(Some(ADMIN), None), READ, true),
                Check(U(TEST1), File(Some(ADMIN), None), READ, false),
            ],
            ..base("P8")
        },
        // P9: everybody ALL read allow / edit deny; bulk delete needs edit on the folder and
        // (recursively) its files -> refused. Delete model perms do not exist in Coffer.
        Case {
            folders: vec![node(300, None, Some(OTHER))],
            rules: vec![rule(1, None, Scope::All, Principal::Everybody, "ADD")],
            checks: vec![
                Check(U(TEST1), Folder(300), EDIT, false),
                Check(U(TEST1), File(Some(OTHER), Some(300)), EDIT, false),
                Check(U(TEST1), Folder(300), READ, true),
            ],
            ..base("P9")
        },
        // P10: copying a folder copies its rows; the copy (new folder + identical rule on it)
        // decides exactly like the original.
        Case {
            folders: vec![node(TF, None, None), node(TF + 1, None, None)],
            rules: vec![
                rule(1, Some(TF), Scope::This, u(TEST1), "AD-"),
                rule(2, Some(TF + 1), Scope::This, u(TEST1), "AD-"),
            ],
            checks: vec![
                Check(U(TEST1), Folder(TF), READ, true),
                Check(U(TEST1), Folder(TF + 1), READ, true),
                Check(U(TEST1), Folder(TF), EDIT, false),
                Check(U(TEST1), Folder(TF + 1), EDIT, false),
            ],
            ..base("P10")
        },
        // P11: perms off: the listing of `bar` shows all four items (read on each).
        Case {
            policy: OFF,
            folders: listing_folders(),
            checks: vec![
                Check(U(TEST1), Folder(FOO), READ, true),
                Check(U(TEST1), Folder(BAR2), READ, true),
                Check(U(TEST1), Folder(BAZ), READ, true),
                Check(U(TEST1), SPAM, READ, true),
            ],
            ..base("P11")
        },
        // P12: perms on, no rows: only the owned `foo`.
        Case {
            folders: listing_folders(),
            checks: vec![
                Check(U(TEST1), Folder(FOO), READ, true),
                Check(U(TEST1), Folder(BAR2), READ, false),
                Check(U(TEST1), Folder(BAZ), READ, false),
                Check(U(TEST1), SPAM, READ, false),
            ],
            ..base("P12")
        },
        // P13: + THIS row on subfolder `bar`: foo and bar.
        Case {
            folders: listing_folders(),
            rules: vec![rule(1, Some(BAR2), Scope::This, u(TEST1), "AAA")],
            checks: vec![
                Check(U(TEST1), Folder(FOO), READ, true),
                Check(U(TEST1), Folder(BAR2), READ, true),
                Check(U(TEST1), Folder(BAZ), READ, false),
                Check(U(TEST1), SPAM, READ, false),
            ],
            ..base("P13")
        },
        // P14: + CHILDREN row on the parent: all four.
        Case {
            folders: listing_folders(),
            rules: vec![
                rule(1, Some(BAR2), Scope::This, u(TEST1), "AAA"),
                rule(2, Some(BAR), Scope::Children, u(TEST1), "AAA"),
            ],
            checks: vec![
                Check(U(TEST1), Folder(FOO), READ, true),
                Check(U(TEST1), Folder(BAR2), READ, true),
                Check(U(TEST1), Folder(BAZ), READ, true),
                Check(U(TEST1), SPAM, READ, true),
            ],
            ..base("P14")
        },
        // P15: the 403 comes from a Django model permission that Coffer does not have; the
        // engine itself grants read with perms off (any listing gate is the caller's).
        Case {
            policy: OFF,
            folders: listing_folders(),
            checks: vec![Check(U(TEST1), Folder(BAR), READ, true)],
            ..base("P15")
        },
        // P16: THIS row with add DENY: upload into that folder refused (add_children false).
        Case {
            rules: vec![rule(1, Some(TF), Scope::This, u(TEST1), "AAD")],
            checks: vec![
                Check(U(TEST1), Folder(TF), ADD, false),
                Check(U(TEST1), Folder(TF), READ, true),
            ],
            ..base("P16")
        },
        // P17: "no add_file model perm" has no Coffer equivalent; the folder-level gate of an
        // upload with no rows is add_children, which is false.
        Case {
            checks: vec![Check(U(TEST1), Folder(TF), ADD, false)],
            ..base("P17")
        },
        // P18: no rows: add_children false for the folder and for a file in it.
        Case {
            checks: vec![
                Check(U(TEST1), Folder(TF), ADD, false),
                Check(U(TEST1), File(Some(OTHER), Some(TF)), ADD, false),
            ],
            ..base("P18")
        },
        // P19: group CHILDREN allow on root + user THIS deny on child.
        Case {
            folders: chain(),
            rules: vec![
                rule(1, Some(ROOT), Scope::Children, p(G1), "A--"),
                rule(2, Some(CHILD), Scope::This, u(TEST1), "D--"),
            ],
            checks: vec![
                Check(U(TEST1), Folder(ROOT), READ, true),
                Check(U(TEST1), Folder(CHILD), READ, false),
                Check(U(TEST1), Folder(GRAND), READ, true),
            ],
            ..base("P19")
        },
        // P20: ALL-type row with folder=child behaves like CHILDREN. No change_folder conjunct
        // in Coffer, so this is the "with change_folder" half.
        Case {
            folders: chain(),
            rules: vec![rule(1, Some(CHILD), Scope::All, u(TEST1), "-A-")],
            checks: vec![
                Check(U(TEST1), Folder(ROOT), EDIT, false),
                Check(U(TEST1), Folder(CHILD), EDIT, true),
                Check(U(TEST1), Folder(GRAND), EDIT, true),
            ],
            ..base("P20")
        },
        // P21: everybody ALL read allow; file in a nested folder: non-staff user yes, anon no.
        Case {
            folders: chain(),
            rules: vec![rule(1, None, Scope::All, Principal::Everybody, "A--")],
            checks: vec![
                Check(U(TEST2), File(Some(OTHER), Some(GRAND)), READ, true),
                Check(Anon, File(Some(OTHER), Some(GRAND)), READ, false),
            ],
            ..base("P21")
        },
        // P22: THIS read+edit allow; Coffer has no model perms and Images are not special, so
        // files (plain or image) and the folder are all editable.
        Case {
            rules: vec![rule(1, Some(TF), Scope::This, u(TEST1), "AA-")],
            checks: vec![
                Check(U(TEST1), File(Some(OTHER), Some(TF)), EDIT, true),
                Check(U(TEST1), Folder(TF), EDIT, true),
                Check(U(TEST1), Folder(TF), READ, true),
            ],
            ..base("P22")
        },
        // P23: perms off; unsorted file of admin: no; file in a folder: yes.
        Case {
            policy: OFF,
            checks: vec![
                Check(U(TEST2), File(Some(ADMIN), None), READ, false),
                Check(U(TEST2), File(Some(ADMIN), Some(TF)), READ, true),
            ],
            ..base("P23")
        },
        // P24: "all folders" read grant; folder 600 created later. No cache: the rebuilt
        // snapshot (which contains 600) covers it immediately (see also `p24_new_folder`).
        Case {
            folders: vec![node(TF, None, None), node(600, Some(TF), None)],
            rules: vec![rule(1, None, Scope::All, u(TEST1), "A--")],
            checks: vec![
                Check(U(TEST1), Folder(TF), READ, true),
                Check(U(TEST1), Folder(600), READ, true),
            ],
            ..base("P24")
        },
        // P25: owner of `mine` reads (and edits) a file someone else uploaded into it (the
        // listing quirk of hiding it is not a permission matter).
        Case {
            folders: vec![node(700, None, Some(TEST1))],
            checks: vec![
                Check(U(TEST1), File(Some(OTHER), Some(700)), READ, true),
                Check(U(TEST1), File(Some(OTHER), Some(700)), EDIT, true),
            ],
            ..base("P25")
        },
    ]
}

fn actor_of(who: Who) -> Option<Actor> {
    match who {
        Anon => None,
        U(id) => Some(user(id)),
    }
}

fn decide(s: &Snapshot, policy: Policy, who: Who, target: Target, right: Right) -> Decision {
    let actor = actor_of(who);
    match target {
        Folder(f) => s.folder_decision(policy, actor.as_ref(), f, right),
        File(owner, folder) => s.file_decision(
            policy,
            actor.as_ref(),
            FileRef {
                owner_id: owner,
                folder_id: folder,
            },
            right,
        ),
    }
}

/// `allowed` must agree with the rule lists when the reason is `Rules`.
fn assert_consistent(d: &Decision) {
    if let Reason::Rules {
        allowed_by,
        denied_by,
    } = &d.reason
    {
        assert_eq!(d.allowed, !allowed_by.is_empty() && denied_by.is_empty());
        assert!(allowed_by.iter().all(|m| m.grant == Grant::Allow));
        assert!(denied_by.iter().all(|m| m.grant == Grant::Deny));
    }
}

#[test]
fn filer_black_box_cases() {
    let all = cases();
    assert_eq!(all.len(), 28);
    for case in all {
        let s = Snapshot::new(
            case.folders.clone(),
            case.rules.clone(),
            case.members.clone(),
        );
        for Check(who, target, right, expect) in &case.checks {
            let d = decide(&s, case.policy, *who, *target, *right);
            assert_eq!(
                d.allowed, *expect,
                "{}: {who:?} {target:?} {right:?} -> {d}",
                case.id
            );
            assert_consistent(&d);
            if let Folder(f) = target {
                let set = s.folders_with(case.policy, actor_of(*who).as_ref(), *right);
                assert_eq!(set.contains(*f), *expect, "{} folders_with", case.id);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Edge cases

#[test]
fn p24_new_folder_is_covered_immediately() {
    let rules = vec![rule(1, None, Scope::All, Principal::Everybody, "A--")];
    let before = Snapshot::new(std_folders(), rules.clone(), vec![]);
    let d = before.folder_decision(ON, Some(&user(TEST1)), 600, READ);
    assert_eq!(d.reason, Reason::UnknownFolder);
    let mut folders = std_folders();
    folders.push(node(600, Some(TF), None));
    let after = Snapshot::new(folders, rules, vec![]);
    assert!(
        after
            .folder_decision(ON, Some(&user(TEST1)), 600, READ)
            .allowed
    );
    assert!(
        after
            .folders_with(ON, Some(&user(TEST1)), READ)
            .contains(600)
    );
}

#[test]
fn inactive_user_denied_even_as_superuser_or_owner() {
    let s = Snapshot::new(
        vec![node(TF, None, Some(TEST1))],
        vec![rule(1, None, Scope::All, Principal::Everybody, "AAA")],
        vec![],
    );
    let inactive_owner = Actor {
        user_id: TEST1,
        is_active: false,
        is_superuser: true,
    };
    for policy in [ON, OFF] {
        for right in Right::ALL {
            let d = s.folder_decision(policy, Some(&inactive_owner), TF, right);
            assert_eq!((d.allowed, &d.reason), (false, &Reason::Inactive));
            let file = FileRef {
                owner_id: Some(TEST1),
                folder_id: None,
            };
            let d = s.file_decision(policy, Some(&inactive_owner), file, right);
            assert_eq!((d.allowed, &d.reason), (false, &Reason::Inactive));
            let set = s.folders_with(policy, Some(&inactive_owner), right);
            assert!(!set.contains(TF));
        }
    }
}

#[test]
fn anonymous_denied_even_with_everybody_rule() {
    let s = Snapshot::new(
        std_folders(),
        vec![
            rule(1, None, Scope::All, Principal::Everybody, "AAA"),
            rule(2, Some(TF), Scope::This, Principal::Everybody, "AAA"),
        ],
        vec![],
    );
    for policy in [ON, OFF] {
        let d = s.folder_decision(policy, None, TF, READ);
        assert_eq!((d.allowed, &d.reason), (false, &Reason::Anonymous));
        let file = FileRef {
            owner_id: None,
            folder_id: Some(TF),
        };
        assert_eq!(
            s.file_decision(policy, None, file, READ).reason,
            Reason::Anonymous
        );
        assert_eq!(
            s.folders_with(policy, None, READ),
            FolderSet::Some(HashSet::new())
        );
    }
}

#[test]
fn permissions_disabled_and_unsorted_files() {
    let s = Snapshot::new(std_folders(), vec![], std_members());
    let t1 = user(TEST1);
    let theirs = FileRef {
        owner_id: Some(OTHER),
        folder_id: None,
    };
    let mine = FileRef {
        owner_id: Some(TEST1),
        folder_id: None,
    };
    let ownerless = FileRef {
        owner_id: None,
        folder_id: None,
    };
    for right in Right::ALL {
        let d = s.file_decision(OFF, Some(&t1), theirs, right);
        assert_eq!((d.allowed, &d.reason), (false, &Reason::UnsortedNotOwner));
        assert!(!s.file_decision(OFF, Some(&t1), ownerless, right).allowed);
        let d = s.file_decision(OFF, Some(&t1), mine, right);
        assert_eq!((d.allowed, &d.reason), (true, &Reason::FileOwner));
        let d = s.file_decision(OFF, Some(&user(ADMIN)), theirs, right);
        assert_eq!((d.allowed, &d.reason), (true, &Reason::Superuser));
        let d = s.folder_decision(OFF, Some(&t1), TF, right);
        assert_eq!((d.allowed, &d.reason), (true, &Reason::PermissionsDisabled));
        assert_eq!(s.folders_with(OFF, Some(&t1), right), FolderSet::Every);
    }
    // Unknown folder stays denied even with permissions disabled; superuser short-circuits first.
    assert_eq!(
        s.folder_decision(OFF, Some(&t1), 999, READ).reason,
        Reason::UnknownFolder
    );
    assert!(s.folder_decision(ON, Some(&user(ADMIN)), 999, READ).allowed);
}

#[test]
fn all_with_folder_behaves_like_children() {
    let folders = chain();
    for grants in ["A--", "D--", "AD-", "-AD"] {
        let with = |scope| {
            Snapshot::new(
                folders.clone(),
                vec![
                    rule(1, None, Scope::All, Principal::Everybody, "AAA"),
                    rule(2, Some(CHILD), scope, Principal::User(TEST1), grants),
                ],
                vec![],
            )
        };
        let (all, children) = (with(Scope::All), with(Scope::Children));
        for f in [ROOT, CHILD, GRAND] {
            for right in Right::ALL {
                let a = all.folder_decision(ON, Some(&user(TEST1)), f, right);
                let c = children.folder_decision(ON, Some(&user(TEST1)), f, right);
                assert_eq!(a.allowed, c.allowed, "{grants} {f} {right}");
            }
        }
    }
}

#[test]
fn this_does_not_reach_subfolders() {
    let s = Snapshot::new(
        chain(),
        vec![rule(
            1,
            Some(ROOT),
            Scope::This,
            Principal::User(TEST1),
            "AAA",
        )],
        vec![],
    );
    let t1 = user(TEST1);
    assert!(s.folder_decision(ON, Some(&t1), ROOT, READ).allowed);
    assert!(!s.folder_decision(ON, Some(&t1), CHILD, READ).allowed);
    assert!(!s.folder_decision(ON, Some(&t1), GRAND, READ).allowed);
    // Files directly in the folder are covered, files in subfolders are not.
    let f = |folder| FileRef {
        owner_id: Some(OTHER),
        folder_id: Some(folder),
    };
    assert!(s.file_decision(ON, Some(&t1), f(ROOT), READ).allowed);
    assert!(!s.file_decision(ON, Some(&t1), f(CHILD), READ).allowed);
    // But a THIS deny on the root does not hide the children either.
    let s = Snapshot::new(
        chain(),
        vec![
            rule(1, None, Scope::All, Principal::Everybody, "A--"),
            rule(2, Some(ROOT), Scope::This, Principal::User(TEST1), "D--"),
        ],
        vec![],
    );
    assert!(!s.folder_decision(ON, Some(&t1), ROOT, READ).allowed);
    assert!(s.folder_decision(ON, Some(&t1), CHILD, READ).allowed);
}

#[test]
fn ancestor_children_deny_beats_child_allow() {
    let s = Snapshot::new(
        chain(),
        vec![
            rule(7, Some(ROOT), Scope::Children, Principal::Group(G1), "D--"),
            rule(2, Some(GRAND), Scope::This, Principal::User(TEST1), "A--"),
        ],
        std_members(),
    );
    let d = s.folder_decision(ON, Some(&user(TEST1)), GRAND, READ);
    assert!(!d.allowed);
    let Reason::Rules {
        allowed_by,
        denied_by,
    } = &d.reason
    else {
        panic!("expected rules, got {d:?}");
    };
    assert_eq!(allowed_by.len(), 1);
    assert_eq!(allowed_by[0].rule_id, 2);
    assert!(!allowed_by[0].inherited);
    assert_eq!(denied_by.len(), 1);
    assert_eq!(denied_by[0].rule_id, 7);
    assert!(denied_by[0].inherited);
    assert_eq!(denied_by[0].folder_id, Some(ROOT));
    // test2 is not in G1: the deny does not apply to them, and they have no allow either.
    assert!(
        !s.folder_decision(ON, Some(&user(TEST2)), GRAND, READ)
            .allowed
    );
}

#[test]
fn folderless_rule_with_any_scope_covers_every_folder() {
    for scope in [Scope::All, Scope::This, Scope::Children] {
        let s = Snapshot::new(
            chain(),
            vec![rule(1, None, scope, Principal::Group(G2), "A--")],
            std_members(),
        );
        for f in [ROOT, CHILD, GRAND] {
            assert!(s.folder_decision(ON, Some(&user(TEST2)), f, READ).allowed);
            assert!(!s.folder_decision(ON, Some(&user(TEST1)), f, READ).allowed);
        }
    }
}

#[test]
fn rule_on_unknown_folder_and_deleted_user_match_nothing() {
    let s = Snapshot::new(
        chain(),
        vec![
            rule(1, Some(12345), Scope::Children, Principal::Everybody, "AAA"),
            rule(2, Some(ROOT), Scope::Children, Principal::User(4242), "AAA"),
        ],
        vec![],
    );
    assert_eq!(s.rules().count(), 2);
    for f in [ROOT, CHILD, GRAND] {
        assert!(!s.folder_decision(ON, Some(&user(TEST1)), f, READ).allowed);
    }
}

#[test]
fn rules_affecting_marks_inherited() {
    let s = Snapshot::new(
        chain(),
        vec![
            rule(1, None, Scope::All, Principal::Everybody, "A--"),
            rule(2, Some(ROOT), Scope::Children, Principal::Group(G1), "D--"),
            rule(3, Some(ROOT), Scope::This, Principal::User(TEST1), "A--"),
            rule(4, Some(CHILD), Scope::All, Principal::User(TEST2), "-A-"),
            rule(5, Some(GRAND), Scope::This, Principal::User(TEST1), "--A"),
            rule(6, Some(GRAND), Scope::Children, Principal::Everybody, "---"),
        ],
        vec![],
    );
    let got: Vec<(RuleId, bool, Option<FolderId>)> = s
        .rules_affecting(GRAND)
        .into_iter()
        .map(|a| (a.rule.id, a.inherited, a.from_folder))
        .collect();
    assert_eq!(
        got,
        vec![
            (6, false, Some(GRAND)), // own rules: everybody sorts before users
            (5, false, Some(GRAND)),
            (4, true, Some(CHILD)), // nearest ancestor first
            (2, true, Some(ROOT)),  // rule 3 (THIS on root) does not reach GRAND
            (1, true, None),
        ]
    );
    let got: Vec<RuleId> = s.rules_affecting(ROOT).iter().map(|a| a.rule.id).collect();
    assert_eq!(got, vec![3, 2, 1]);
    let got: Vec<RuleId> = s.rules_affecting(999).iter().map(|a| a.rule.id).collect();
    assert_eq!(got, vec![1]);
}

#[test]
fn explanation_strings() {
    let folders = vec![node(12, None, Some(OTHER)), node(13, Some(12), None)];
    let s = Snapshot::new(
        folders,
        vec![
            rule(2, None, Scope::All, Principal::Everybody, "AA-"),
            rule(7, Some(12), Scope::Children, Principal::Group(3), "D--"),
            rule(8, Some(13), Scope::This, Principal::User(TEST1), "DA-"),
        ],
        vec![(3, TEST1)],
    );
    let t1 = user(TEST1);
    let t2 = user(TEST2);
    let say = |d: Decision| d.to_string();
    assert_eq!(
        say(s.folder_decision(ON, Some(&user(ADMIN)), 12, READ)),
        "allowed: superuser"
    );
    assert_eq!(
        say(s.folder_decision(ON, Some(&t1), 12, READ)),
        "denied: rule #7 (group 3, folder 12 and its subfolders) denies read, \
         which beats rule #2 (everybody, all folders) allowing it"
    );
    assert_eq!(
        say(s.folder_decision(ON, Some(&t1), 13, READ)),
        "denied: rule #8 (user 2, folder 13 only) and 1 other rule deny read, \
         which beats rule #2 (everybody, all folders) allowing it"
    );
    assert_eq!(
        say(s.folder_decision(ON, Some(&t1), 13, EDIT)),
        "allowed: rule #8 (user 2, folder 13 only) and 1 other rule allow edit"
    );
    assert_eq!(
        say(s.folder_decision(ON, Some(&t2), 12, READ)),
        "allowed: rule #2 (everybody, all folders) allows read"
    );
    assert_eq!(
        say(s.folder_decision(ON, Some(&t2), 12, ADD)),
        "denied: no rule grants add children"
    );
    assert_eq!(
        say(s.folder_decision(ON, None, 12, READ)),
        "denied: anonymous users have no access"
    );
    assert_eq!(
        say(s.folder_decision(ON, Some(&user(OTHER)), 12, EDIT)),
        "allowed: owner of the folder"
    );
    let unsorted = FileRef {
        owner_id: Some(OTHER),
        folder_id: None,
    };
    assert_eq!(
        s.file_decision(OFF, Some(&t1), unsorted, READ).explain(),
        "denied: the file is unsorted (in no folder) and belongs to someone else"
    );
}

#[test]
fn cycles_and_dangling_parents_terminate() {
    // 1 -> 2 -> 3 -> 1 is a cycle, 4 hangs below 3, 5 is its own parent, 6 has a dangling
    // parent (top-level), 7 is a normal child of 6.
    let folders = vec![
        node(1, Some(3), None),
        node(2, Some(1), None),
        node(3, Some(2), None),
        node(4, Some(3), None),
        node(5, Some(5), None),
        node(6, Some(999), None),
        node(7, Some(6), None),
    ];
    let s = Snapshot::new(
        folders,
        vec![
            rule(1, Some(2), Scope::Children, Principal::User(TEST1), "A--"),
            rule(2, Some(5), Scope::Children, Principal::User(TEST1), "A--"),
            rule(3, Some(6), Scope::Children, Principal::User(TEST1), "-A-"),
        ],
        vec![],
    );
    let sorted = |mut v: Vec<FolderId>| {
        v.sort_unstable();
        v
    };
    assert_eq!(sorted(s.ancestors(1)), vec![2, 3]);
    assert_eq!(sorted(s.ancestors(4)), vec![1, 2, 3]);
    assert_eq!(s.ancestors(5), Vec::<FolderId>::new());
    assert_eq!(s.ancestors(6), Vec::<FolderId>::new());
    assert_eq!(s.ancestors(7), vec![6]);
    assert_eq!(sorted(s.descendants(1)), vec![2, 3, 4]);
    assert_eq!(s.descendants(5), Vec::<FolderId>::new());
    assert_eq!(s.descendants(6), vec![7]);
    assert!(s.is_ancestor_or_self(3, 4));
    assert!(s.is_ancestor_or_self(2, 1));
    assert!(!s.is_ancestor_or_self(4, 1));
    assert!(s.is_ancestor_or_self(5, 5));
    assert!(!s.is_ancestor_or_self(999, 6));
    let t1 = user(TEST1);
    for f in [1, 2, 3, 4, 5] {
        assert!(s.folder_decision(ON, Some(&t1), f, READ).allowed, "{f}");
    }
    assert!(s.folder_decision(ON, Some(&t1), 7, EDIT).allowed);
    let set = s.folders_with(ON, Some(&t1), READ);
    assert_eq!(set, FolderSet::Some([1, 2, 3, 4, 5].into_iter().collect()));
}

#[test]
fn tree_helpers() {
    let s = Snapshot::new(listing_folders(), vec![], vec![]);
    assert_eq!(s.ancestors(FOO), vec![BAR]);
    let mut kids: Vec<FolderId> = s.children(BAR).collect();
    kids.sort_unstable();
    assert_eq!(kids, vec![FOO, BAR2, BAZ]);
    assert!(s.is_ancestor_or_self(BAR, BAZ));
    assert!(!s.is_ancestor_or_self(BAZ, BAR));
    assert_eq!(s.folder(FOO).map(|f| f.owner_id), Some(Some(TEST1)));
    assert!(s.folder(1).is_none());
    let s = Snapshot::new(vec![], vec![], vec![(5, 1), (3, 1), (5, 1)]);
    assert_eq!(s.groups_of(1), &[3, 5]);
    assert!(s.groups_of(2).is_empty());
}

#[test]
fn names_round_trip() {
    for r in Right::ALL {
        assert_eq!(Right::parse(r.as_str()), Some(r));
    }
    for sc in [Scope::All, Scope::This, Scope::Children] {
        assert_eq!(Scope::parse(sc.as_str()), Some(sc));
    }
    for gr in [Grant::Allow, Grant::Deny, Grant::Inherit] {
        assert_eq!(Grant::parse(gr.as_str()), Some(gr));
        let o: Option<bool> = gr.into();
        assert_eq!(Grant::from(o), gr);
    }
    assert_eq!(Grant::from(Some(true)), Grant::Allow);
    assert_eq!(Grant::from(Some(false)), Grant::Deny);
    assert_eq!(Grant::from(None), Grant::Inherit);
    assert_eq!(Scope::parse("ALL"), None);
    assert_eq!(Right::AddChildren.as_str(), "add_children");
}

// ---------------------------------------------------------------------------------------------
// Properties

/// Tiny xorshift64* generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

struct World {
    folders: Vec<FolderNode>,
    rules: Vec<Rule>,
    members: Vec<(GroupId, UserId)>,
    users: Vec<UserId>,
}

/// Random world; `cyclic` lets parents point anywhere (cycles, dangling ids).
fn random_world(rng: &mut Rng, cyclic: bool) -> World {
    let n = 1 + rng.below(40) as i64;
    let users: Vec<UserId> = (1..=6).collect();
    let groups: Vec<GroupId> = (100..104).collect();
    let mut folders = Vec::new();
    for i in 0..n {
        let id = 1000 + i;
        let parent = if cyclic {
            rng.chance(85)
                .then(|| 1000 + rng.below(n as u64 + 2) as i64)
        } else if i == 0 || rng.chance(15) {
            None
        } else {
            Some(1000 + rng.below(i as u64) as i64)
        };
        let owner = rng.chance(10).then(|| rng.pick(&users));
        folders.push(node(id, parent, owner));
    }
    // Sometimes many rules, so buckets exceed the linear-scan threshold.
    let n_rules = if rng.chance(30) {
        rng.below(400)
    } else {
        rng.below(30)
    };
    let grants = [Grant::Allow, Grant::Deny, Grant::Inherit, Grant::Inherit];
    let few = 1 + rng.below(3) as i64;
    let rules = (0..n_rules as i64)
        .map(|id| {
            let folder_id = if rng.chance(8) {
                None
            } else if rng.chance(3) {
                Some(5555) // unknown folder
            } else {
                let span = (few.min(n) as u64 + rng.below(n as u64)).min(n as u64);
                Some(1000 + rng.below(span) as i64)
            };
            let principal = match rng.below(5) {
                0 => Principal::Everybody,
                1 | 2 => Principal::User(rng.pick(&users) + rng.below(2) as i64 * 50),
                _ => Principal::Group(rng.pick(&groups)),
            };
            Rule {
                id,
                folder_id,
                scope: rng.pick(&[Scope::All, Scope::This, Scope::Children]),
                principal,
                read: rng.pick(&grants),
                edit: rng.pick(&grants),
                add_children: rng.pick(&grants),
            }
        })
        .collect();
    let members = (0..rng.below(12))
        .map(|_| (rng.pick(&groups), rng.pick(&users)))
        .collect();
    World {
        folders,
        rules,
        members,
        users,
    }
}

/// Direct transcription of filer's EFFECTIVE_IDS (§2.1) plus the FOLDER_GENERIC
/// short-circuits, computing descendants naively. Returns (allowed, allow rule ids, deny rule ids).
fn reference(
    w: &World,
    s: &Snapshot,
    u: UserId,
    folder: FolderId,
    right: Right,
) -> (bool, Vec<RuleId>, Vec<RuleId>) {
    let owner = w
        .folders
        .iter()
        .find(|f| f.id == folder)
        .and_then(|f| f.owner_id);
    let groups: HashSet<GroupId> = w.members.iter().filter(|m| m.1 == u).map(|m| m.0).collect();
    let (mut allow, mut deny) = (vec![], vec![]);
    for r in &w.rules {
        let applies = match r.principal {
            Principal::Everybody => true,
            Principal::User(x) => x == u,
            Principal::Group(g) => groups.contains(&g),
        };
        let covers = match r.folder_id {
            None => true,
            Some(f) if f == folder => s.folder(f).is_some(),
            Some(f) => r.scope != Scope::This && s.descendants(f).contains(&folder),
        };
        if !applies || !covers {
            continue;
        }
        match r.grant(right) {
            Grant::Allow => allow.push(r.id),
            Grant::Deny => deny.push(r.id),
            Grant::Inherit => {}
        }
    }
    allow.sort_unstable();
    deny.sort_unstable();
    let allowed = owner == Some(u) || (!allow.is_empty() && deny.is_empty());
    (allowed, allow, deny)
}

fn ids(ms: &[RuleMatch]) -> Vec<RuleId> {
    let mut v: Vec<RuleId> = ms.iter().map(|m| m.rule_id).collect();
    v.sort_unstable();
    v
}

fn check_world(w: &World, seed: u64) {
    let s = Snapshot::new(w.folders.clone(), w.rules.clone(), w.members.clone());
    let mut actors: Vec<Option<Actor>> = w.users.iter().map(|&u| Some(user(u))).collect();
    actors.push(None);
    actors.push(Some(Actor {
        user_id: 1,
        is_active: true,
        is_superuser: true,
    }));
    actors.push(Some(Actor {
        user_id: 2,
        is_active: false,
        is_superuser: false,
    }));
    for policy in [ON, OFF] {
        for actor in &actors {
            for right in Right::ALL {
                let set = s.folders_with(policy, actor.as_ref(), right);
                for f in s.folders() {
                    let d = s.folder_decision(policy, actor.as_ref(), f.id, right);
                    assert_consistent(&d);
                    assert_eq!(
                        set.contains(f.id),
                        d.allowed,
                        "seed {seed}: folders_with vs decision, {actor:?} {} {right}",
                        f.id
                    );
                    if let (Some(a), true) = (actor, policy.enable_permissions)
                        && a.is_active
                        && !a.is_superuser
                    {
                        let (ok, allow, deny) = reference(w, &s, a.user_id, f.id, right);
                        assert_eq!(d.allowed, ok, "seed {seed}: reference, {}", f.id);
                        if let Reason::Rules {
                            allowed_by,
                            denied_by,
                        } = &d.reason
                        {
                            assert_eq!(ids(allowed_by), allow, "seed {seed}");
                            assert_eq!(ids(denied_by), deny, "seed {seed}");
                        }
                    }
                }
            }
        }
    }
    // Tree helpers agree with each other.
    for a in s.folders() {
        let desc: HashSet<FolderId> = s.descendants(a.id).into_iter().collect();
        assert!(!desc.contains(&a.id));
        for b in s.folders() {
            if a.id != b.id {
                assert_eq!(s.is_ancestor_or_self(a.id, b.id), desc.contains(&b.id));
                assert_eq!(s.ancestors(b.id).contains(&a.id), desc.contains(&b.id));
            }
        }
    }
}

#[test]
fn property_random_trees() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..300 {
        let w = random_world(&mut rng, false);
        check_world(&w, i);
    }
}

#[test]
fn property_random_graphs_with_cycles() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for i in 0..200 {
        let w = random_world(&mut rng, true);
        check_world(&w, i);
    }
}

// ---------------------------------------------------------------------------------------------
