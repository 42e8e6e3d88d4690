//! `keygate`: the server and its admin CLI in one binary.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod admin;
mod config;
mod output;
mod serve;
mod transport;

// Every request allocates and frees a few dozen small buffers; glibc's malloc spent about 8% of a token's
// CPU on them (with fastbin consolidation on each larger request), mimalloc about half as much. Measured in
// docs/benchmarks.md: 4-14% more requests per second per core, idle RSS about 1 MiB more.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "keygate",
    version,
    about = "Self-hosted API access platform: OAuth 2, API keys and tokens"
)]
struct Cli {
    #[command(flatten)]
    config: config::ConfigArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (SQLite in ./keygate-data unless configured otherwise)
    Serve(serve::ServeArgs),
    /// Apply database migrations and exit (serve also migrates on start)
    Migrate,
    /// Configuration tools
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage accounts, users, apps, admin tokens and signing keys on the configured database
    Admin(admin::AdminArgs),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate the configuration and print it resolved (secrets redacted)
    Check,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let json_errors = matches!(&cli.command, Command::Admin(a) if a.json);
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) if json_errors => {
            eprintln!("{}", serde_json::json!({ "error": message }));
            ExitCode::FAILURE
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve(args) => serve::run(&cli.config, args).await,
        Command::Migrate => {
            let config = config::finish(config::load(&cli.config, &[])?)?;
            serve::init_logging(&config, false)?;
            keygate_server::bootstrap::open_store(&config, keygate_server::bootstrap::Role::Tool)
                .await
                .map_err(|e| e.to_string())?;
            println!("migrations applied to {}", redact_url(&config.database_url));
            Ok(())
        }
        Command::Config(ConfigCommand::Check) => {
            let mut config = config::finish(config::load(&cli.config, &[])?)?;
            if !config.master_key.is_empty() {
                config.master_key = "(set)".into();
            }
            config.database_url = redact_url(&config.database_url);
            println!(
                "{}",
                serde_json::to_string_pretty(&config).map_err(|e| e.to_string())?
            );
            eprintln!("configuration is valid");
            Ok(())
        }
        Command::Admin(args) => {
            let transport = match &args.server {
                Some(url) => {
                    let token = std::env::var("KEYGATE_ADMIN_TOKEN").map_err(|_| {
                        "--server needs an admin token in KEYGATE_ADMIN_TOKEN (keygate admin tokens create)"
                            .to_owned()
                    })?;
                    transport::Transport::remote(url, token)?
                }
                None => {
                    let config = config::finish(config::load(&cli.config, &[])?)?;
                    serve::init_logging(&config, true)?;
                    let state = keygate_server::build_tool_state(config)
                        .await
                        .map_err(|e| e.to_string())?;
                    transport::Transport::Local(keygate_server::router(state))
                }
            };
            admin::run(&transport, args).await
        }
    }
}

/// A database URL fit for printing: any password replaced.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}://{user}:***{}", &url[..scheme_end], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact_url("postgres://kg:s3cret@db:5432/kg"),
            "postgres://kg:***@db:5432/kg"
        );
        assert_eq!(redact_url("postgres://kg@db/kg"), "postgres://kg@db/kg");
        assert_eq!(
            redact_url("sqlite://keygate-data/keygate.db"),
            "sqlite://keygate-data/keygate.db"
        );
    }
}
