//! `keygate serve`.

use std::time::Duration;

use clap::Args;
use keygate_server::config::LogFormat;
use keygate_server::{demo, Config};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use crate::config::{self, ConfigArgs};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// URL clients use to reach this server (issuer of tokens) [default: http://LISTEN]
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Seed a demo account, user, app and admin token (once) and print their credentials
    #[arg(long)]
    demo: bool,
}

pub fn init_logging(config: &Config, quiet: bool) -> Result<(), String> {
    let level = if quiet { "warn" } else { config.log.level.as_str() };
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !quiet => EnvFilter::try_new(v),
        _ => EnvFilter::try_new(level),
    }
    .map_err(|e| format!("log.level {level:?} is not a valid filter: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match config.log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
    result.map_err(|e| format!("cannot initialise logging: {e}"))
}

pub async fn run(args: &ConfigArgs, serve: ServeArgs) -> Result<(), String> {
    // Signal handlers first: a SIGTERM at any point after start-up is a graceful shutdown.
    let shutdown = shutdown_signal()?;
    let mut config = config::load(
        args,
        &[("listen", serve.listen), ("public_url", serve.public_url)],
    )?;
    // Bind before deriving the public URL, so that port 0 advertises the port actually taken.
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    config.listen = listener.local_addr().map_err(|e| e.to_string())?;
    let config = config::finish(config)?;
    init_logging(&config, false)?;
    let grace = Duration::from_secs(config.http.shutdown_grace_secs);
    let listen = config.listen;
    let state = keygate_server::build_state(config, serve.demo)
        .await
        .map_err(|e| e.to_string())?;
    let public_url = state.config.public_url.clone();
    let kg = state.keygate.clone();

    if serve.demo {
        match demo::seed(&kg, &public_url).await.map_err(|e| e.to_string())? {
            Some(c) => print_demo(&c, &public_url),
            None => println!(
                "Demo account {} already exists; its credentials were printed when it was created.\n\
                 Create another admin token with: keygate admin tokens create --name demo2\n",
                demo::DEMO_ACCOUNT
            ),
        }
    } else if kg.store().is_empty().await.map_err(|e| e.to_string())? {
        print_first_start(&public_url);
    }

    tracing::info!(%public_url, store = kg.store().backend().as_str(), "keygate is listening on {listen}");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(keygate_server::serve(listener, state, async {
        let _ = stop_rx.await;
    }));
    shutdown.await;
    tracing::info!(
        "shutting down: no new connections; waiting up to {}s for in-flight requests",
        grace.as_secs()
    );
    let _ = stop_tx.send(());
    match tokio::time::timeout(grace, server).await {
        Ok(Ok(Ok(()))) => tracing::info!("stopped"),
        Ok(Ok(Err(e))) => return Err(format!("server error: {e}")),
        Ok(Err(e)) => return Err(format!("server task failed: {e}")),
        Err(_) => tracing::warn!("in-flight requests did not finish within the grace period; exiting"),
    }
    Ok(())
}

/// Resolves on the first SIGTERM or SIGINT. The handlers are installed when this is called, not when the
/// future is first polled.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("cannot handle SIGTERM: {e}"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("cannot handle SIGINT: {e}"))?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

fn print_first_start(url: &str) {
    println!(
        "\nKeygate is running on an empty store. Next steps:\n\
         \n  1. An admin token for the admin API:   keygate admin tokens create --name ops\
         \n  2. An account and its first user:     keygate admin accounts create ab123 --display-name \"Acme\"\
         \n                                        keygate admin users create --account ab123 --email you@example.com --role admin\
         \n  3. A developer app:                   keygate admin apps create --name \"My app\" --owner ab123 --redirect-uri https://app.example.com/callback\
         \n\n  Or restart with `keygate serve --demo` to get all of these at once.\
         \n  Discovery document: {url}/.well-known/oauth-authorization-server\n"
    );
}

fn print_demo(c: &demo::DemoCredentials, url: &str) {
    println!(
        "\nDemo data created. These secrets are shown only now:\n\
         \n  account         {account}\
         \n  user            {email}\
         \n  password        {password}\
         \n  client_id       {client_id}\
         \n  client_secret   {client_secret}\
         \n  redirect_uri    {redirect}\
         \n  admin token     {admin}\
         \n\n  Try it:\
         \n    curl -s -u '{client_id}:{client_secret}' {url}/oauth/token -d grant_type=client_credentials\
         \n    open '{url}/oauth/authorize?response_type=code&client_id={client_id}&state=xyz' in a browser\
         \n    curl -s -H 'Authorization: Bearer {admin}' {url}/admin/v1/accounts\n",
        account = c.account,
        email = c.email,
        password = c.password,
        client_id = c.client_id,
        client_secret = c.client_secret,
        redirect = c.redirect_uri,
        admin = c.admin_token,
    );
}
