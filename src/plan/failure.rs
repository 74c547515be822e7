//! What happens when the main stack's operation fails (`--on-failure`, `--disable-rollback`) and
//! how express mode (`--express`) carries that choice: pure, so every combination is a table row.
//!
//! sam's meanings: ROLLBACK rolls back; DELETE rolls back and then deletes a stack that failed to
//! create (an update simply rolls back); DO_NOTHING keeps the failed resources, as
//! `--disable-rollback` does. (sam 1.170's `deploy` forgets DO_NOTHING and rolls back anyway;
//! samrs does what sam's help says.)

use serde::{Deserialize, Serialize};

use crate::settings::{DeploySettings, OnFailure};
use crate::stack_state::Express;

/// What the main stack's change set is executed with, and what samrs does after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailurePlan {
    /// ExecuteChangeSet's `DisableRollback`; None in express mode, where it must not be sent.
    pub execute_disable_rollback: Option<bool>,
    /// CreateChangeSet's `DeploymentConfig` in express mode.
    pub express: Option<Express>,
    /// Delete the stack when its creation failed and it rolled back.
    pub delete_failed_create: bool,
}

impl FailurePlan {
    /// Whether a failed operation leaves its resources as they are (no rollback).
    pub fn keeps_resources(&self) -> bool {
        self.execute_disable_rollback
            .or(self.express.and_then(|e| e.disable_rollback))
            .unwrap_or(false)
    }

    /// What a failure does, in `--on-failure`'s words (a kept failure is `DO_NOTHING`).
    pub fn mode(&self) -> OnFailure {
        if self.delete_failed_create {
            OnFailure::Delete
        } else if self.keeps_resources() {
            OnFailure::DoNothing
        } else {
            OnFailure::Rollback
        }
    }
}

/// The plan for a deploy. `--on-failure` and `--disable-rollback` cannot both be flags (a usage
/// error); when samconfig holds both, DELETE wins (as in sam, the stack goes either way) and
/// otherwise either one keeping the resources keeps them.
pub fn failure_plan(on_failure: OnFailure, disable_rollback: bool, express: bool) -> FailurePlan {
    let keep_resources = match on_failure {
        OnFailure::Delete => false,
        OnFailure::DoNothing => true,
        OnFailure::Rollback => disable_rollback,
    };
    let delete_failed_create = on_failure == OnFailure::Delete;
    if express {
        FailurePlan {
            execute_disable_rollback: None,
            express: Some(Express {
                disable_rollback: Some(keep_resources),
            }),
            delete_failed_create,
        }
    } else {
        FailurePlan {
            execute_disable_rollback: Some(keep_resources),
            express: None,
            delete_failed_create,
        }
    }
}

/// The main stack's failure handling, from `--on-failure`, `--disable-rollback` and `--express`.
pub fn of(settings: &DeploySettings) -> FailurePlan {
    failure_plan(
        settings.on_failure,
        settings.disable_rollback,
        settings.express,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_combination() {
        use OnFailure::*;
        let keep = |k: bool| (Some(k), None);
        let express = |k: bool| {
            (
                None,
                Some(Express {
                    disable_rollback: Some(k),
                }),
            )
        };
        // (on_failure, disable_rollback, express) -> (execute DisableRollback, express config, delete)
        let rows = [
            (Rollback, false, false, keep(false), false),
            (Rollback, true, false, keep(true), false),
            (Delete, false, false, keep(false), true),
            (Delete, true, false, keep(false), true),
            (DoNothing, false, false, keep(true), false),
            (DoNothing, true, false, keep(true), false),
            (Rollback, false, true, express(false), false),
            (Rollback, true, true, express(true), false),
            (Delete, false, true, express(false), true),
            (DoNothing, false, true, express(true), false),
        ];
        for (on_failure, disable, is_express, (execute, config), delete) in rows {
            let plan = failure_plan(on_failure, disable, is_express);
            assert_eq!(
                plan.keeps_resources(),
                on_failure == DoNothing || (disable && on_failure == Rollback)
            );
            let in_force = if disable && on_failure == Rollback {
                DoNothing
            } else {
                on_failure
            };
            assert_eq!(plan.mode(), in_force);
            assert_eq!(
                failure_plan(on_failure, disable, is_express),
                FailurePlan {
                    execute_disable_rollback: execute,
                    express: config,
                    delete_failed_create: delete,
                },
                "{on_failure} disable_rollback={disable} express={is_express}"
            );
        }
    }
}
