//! End to end: deploys stopped by Ctrl-C (SIGINT) or SIGKILL in each phase, held there by a delay
//! fault on the call the phase waits on. Ctrl-C during a stack wait says CloudFormation goes on and
//! exits 130; whatever the phase and signal, the next `samrs deploy` converges with no manual
//! step, and a guided run's samconfig.toml is the old file or the new one, never a mix.

use std::os::unix::process::ExitStatusExt;

use samrs::companion::CompanionStack;

use crate::faults::{app, assert_deployed, deploy};
use crate::harness::{Emulator, Fault, FaultProxy, Rule, RunOutput, TestEnv, Tty, SIGINT, SIGKILL};

const MANAGED_STACK: &str = "aws-sam-cli-managed-default";

/// Long enough for any test to signal samrs inside the held call.
const HOLD: Fault = Fault::Delay(4.0);

/// A phase of a deploy and the call that holds samrs inside it.
struct Phase {
    name: &'static str,
    /// The stack whose call is held: "main", "companion" or the managed stack.
    stack: &'static str,
    action: &'static str,
    /// Matching calls let through first (stacks being created have no event read before the
    /// operation, so their first events read is already inside the wait).
    skip: u32,
    /// Whether samrs is then inside a stack wait (Ctrl-C explains itself).
    stack_wait: bool,
}

const COMPANION_CREATE: Phase = Phase {
    name: "companion stack creation",
    stack: "companion",
    action: "CreateStack",
    skip: 0,
    stack_wait: false,
};
const COMPANION_WAIT: Phase = Phase {
    name: "companion execution wait",
    stack: "companion",
    action: "DescribeStackEvents",
    skip: 0,
    stack_wait: true,
};
const CHANGE_SET: Phase = Phase {
    name: "main change set creation",
    stack: "main",
    action: "CreateChangeSet",
    skip: 0,
    stack_wait: false,
};
const EXECUTION_WAIT: Phase = Phase {
    name: "main execution wait",
    stack: "main",
    action: "DescribeStackEvents",
    skip: 0,
    stack_wait: true,
};

/// Runs a deploy of `stack`, holds it in `phase`, sends `signal`; returns what samrs printed once
/// the held call has reached moto (as a request that AWS received goes on without its caller).
fn interrupt(
    env: &TestEnv,
    proxy: &FaultProxy,
    stack: &str,
    phase: &Phase,
    signal: i32,
) -> RunOutput {
    let target = match phase.stack {
        "main" => stack.to_string(),
        "companion" => CompanionStack::new(stack).name().to_string(),
        other => other.to_string(),
    };
    let call = format!("cloudformation:{}", phase.action);
    proxy.set(&[Rule::times(&format!("^{call}$"), HOLD, 1)
        .after(phase.skip)
        .on_stack(&target)]);
    let run = env.spawn_samrs(&TestEnv::managed_deploy_args(stack, &[]));
    proxy.wait_until_held(&call);
    run.signal(signal);
    let out = run.finish();
    proxy.set(&[]);
    proxy.wait_until_idle();
    check_signal_outcome(&out, &target, phase, signal);
    out
}

fn check_signal_outcome(out: &RunOutput, target: &str, phase: &Phase, signal: i32) {
    let what = format!(
        "{} at the {}",
        if signal == SIGINT {
            "Ctrl-C"
        } else {
            "SIGKILL"
        },
        phase.name
    );
    if signal == SIGKILL {
        assert_eq!(out.status.signal(), Some(SIGKILL), "{what}\n{out}");
        return;
    }
    assert_eq!(out.status.code(), Some(130), "{what}\n{out}");
    let notes: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("Interrupted:"))
        .collect();
    if phase.stack_wait {
        assert_eq!(
            notes,
            [format!(
                "Interrupted: CloudFormation goes on with the operation on stack {target}; follow it with \
                 `aws cloudformation describe-stack-events --stack-name {target}`, or run `samrs deploy` again, \
                 which waits for it"
            )],
            "{what}\n{out}"
        );
    } else {
        assert!(notes.is_empty(), "{what}: no stack operation runs\n{out}");
    }
}

/// Interrupts a deploy in `phase`, then deploys again: it must converge.
fn interrupt_then_converge(emu: &'static Emulator, phase: &Phase, signal: i32) {
    let mut env = TestEnv::on(
        emu,
        &format!("int-{}-{signal}", phase.name.replace(' ', "-")),
    );
    let proxy = FaultProxy::start(&mut env);
    app(&env);
    let stack = env.name("app");
    interrupt(&env, &proxy, &stack, phase, signal);
    let out = deploy(&env, &stack);
    assert!(
        out.status.success(),
        "rerun after {} ({signal})\n{out}",
        phase.name
    );
    assert_deployed(&env, &stack);
}

/// On an account of its own, where stacks stay IN_PROGRESS for a few polls (so an interrupted
/// operation is still running when the next deploy starts): Ctrl-C while the managed bucket's stack
/// is being created, then every other phase under both signals at once.
#[test]
fn interrupted_deploys_converge_on_the_next_run() {
    let emu = Emulator::private(&[("MOTO_CFN_IN_PROGRESS_POLLS", "3")]);
    let mut env = TestEnv::on(emu, "int-managed");
    let proxy = FaultProxy::start(&mut env);
    app(&env);
    let stack = env.name("app");
    let managed = Phase {
        name: "managed bucket creation",
        stack: MANAGED_STACK,
        action: "DescribeStackEvents",
        skip: 0,
        stack_wait: true,
    };
    interrupt(&env, &proxy, &stack, &managed, SIGINT);
    let out = deploy(&env, &stack);
    assert!(
        out.status.success(),
        "rerun after Ctrl-C at the managed bucket\n{out}"
    );
    assert!(
        out.stdout.contains(&format!(
            "Stack {MANAGED_STACK} is in CREATE_IN_PROGRESS: waiting"
        )),
        "{out}"
    );
    assert_deployed(&env, &stack);

    std::thread::scope(|scope| {
        for phase in [
            &COMPANION_CREATE,
            &COMPANION_WAIT,
            &CHANGE_SET,
            &EXECUTION_WAIT,
        ] {
            for signal in [SIGINT, SIGKILL] {
                scope.spawn(move || interrupt_then_converge(emu, phase, signal));
            }
        }
    });
}

/// A guided deploy saves samconfig.toml before it deploys: Ctrl-C while the stack is created leaves
/// the new file whole (or the old one), and a plain `samrs deploy` from it converges.
#[test]
fn ctrl_c_during_a_guided_deploy_leaves_a_whole_samconfig() {
    let mut env = TestEnv::new("int-guided");
    let proxy = FaultProxy::start(&mut env);
    let stack = env.name("app");
    env.write_file("template.yaml", &crate::guided::template(&["Fn"]));
    let old = "version = 0.1\n\n[default.deploy.parameters]\nstack_name = \"before\"\n";
    env.write_file("samconfig.toml", old);
    proxy.set(
        &[Rule::times("^cloudformation:DescribeStackEvents$", HOLD, 1)
            .after(0)
            .on_stack(&stack)],
    );
    let tty = Tty::start(&env, &["deploy", "--guided"]);
    tty.answer("Stack Name [before]: ", &stack);
    for prompt in [
        "AWS Region [us-east-1]: ",
        "Confirm changes before deploy [y/N]: ",
        "Allow SAM CLI IAM role creation [Y/n]: ",
        "Disable rollback [y/N]: ",
        "Save arguments to configuration file [Y/n]: ",
        "SAM configuration file [samconfig.toml]: ",
        "SAM configuration environment [default]: ",
        "Create managed ECR repositories for all functions? [Y/n]: ",
    ] {
        tty.answer(prompt, "");
    }
    proxy.wait_until_held("cloudformation:DescribeStackEvents");
    tty.interrupt_at("Waiting for stack create/update to complete");
    assert_eq!(tty.exit_code(), 130, "{}", tty.screen());
    assert!(
        tty.screen()
            .contains("CloudFormation goes on with the operation on stack"),
        "{}",
        tty.screen()
    );
    drop(tty);
    proxy.set(&[]);
    proxy.wait_until_idle();

    let saved = std::fs::read_to_string(env.work_dir().join("samconfig.toml")).unwrap();
    let leftovers: Vec<String> = std::fs::read_dir(env.work_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let new = format!(
        "version = 0.1\n\n[default.deploy.parameters]\nstack_name = \"{stack}\"\nresolve_s3 = true\ns3_prefix = \"{stack}\"\nresolve_image_repos = true\nregion = \"us-east-1\"\ncapabilities = \"CAPABILITY_IAM\"\n\n[default.global.parameters]\nregion = \"us-east-1\"\n"
    );
    assert!(
        saved == old || saved == new,
        "a mixed samconfig.toml:\n{saved}"
    );
    let out = env.samrs(&["deploy", "--no-fail-on-empty-changeset"]);
    assert!(out.status.success(), "{out}");
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("CREATE_COMPLETE")
    );
}
