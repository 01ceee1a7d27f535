//! The `netconsole` command: `send` puts stdin on the wire as netconsole frames; `listen`
//! receives them (from Linux or from this crate family) and prints one message per line.

mod args;
mod last_values;
mod listen;
mod output;
mod rfc5424;
mod send;

use std::process::ExitCode;

const USAGE: &str = "usage: netconsole <command> [options]

commands:
  send     send stdin as netconsole frames
  listen   receive netconsole datagrams and print one message per line

netconsole <command> --help shows a command's options.";

/// A subcommand: its name and its entry point, which gets the words after the name.
type Command = (&'static str, fn(&[String]) -> ExitCode);

const COMMANDS: &[Command] = &[("send", send::main), ("listen", listen::main)];

fn main() -> ExitCode {
    // Lossy, so that a stray non-UTF-8 argument is an error message, not a panic.
    let args: Vec<String> =
        std::env::args_os().skip(1).map(|arg| arg.to_string_lossy().into_owned()).collect();
    let Some((name, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if matches!(name.as_str(), "-h" | "--help" | "help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match COMMANDS.iter().find(|(command, _)| command == name) {
        Some((_, run)) => run(rest),
        None => {
            eprintln!("netconsole: unknown command '{name}'\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
