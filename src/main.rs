use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = maitred::cli::Cli::parse();
    maitred::telemetry::init(cli.settings.log_format);
    maitred::run(cli).await
}
