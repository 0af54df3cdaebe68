//! The HTML report as a real browser draws it: headless Chromium screenshots the sample
//! report (from `report_render.rs`) and the PNG must show the charts, counted by the exact
//! colours of the palette, which nothing but chart data uses. String checks cannot see a chart
//! that a browser refuses to draw (bad path data, a zero-size view box, CSS hiding it).
//!
//! Ignored by default: it needs Chromium, which `.ci/setup` installs and names in
//! `STOCKSTREAM_CHROMIUM`; `.ci/test` runs it with `--include-ignored`. Run it by hand with
//! `STOCKSTREAM_CHROMIUM=/usr/bin/chromium cargo test -p stockstream-core --test it
//! report_screenshot -- --include-ignored`. The PNG (and the HTML) are kept in
//! `target/tmp/report_screenshot/` for a look.

use super::report_render as render;

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use stockstream_core::report::{palette, to_html};

/// The window: a laptop's width, and tall enough for the whole sample page (about 5,700 px):
/// Chromium's `--screenshot` takes the window only, and a 2,400 px window ends above the
/// moving-average charts.
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 9600;

/// Longest a screenshot may take; a first start on a cold disk takes a few seconds.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Writes the page, screenshots it, returns the PNG's path.
fn screenshot(chromium: &Path, html: &str) -> PathBuf {
    let work = tempfile::tempdir().unwrap();
    let page = work.path().join("report.html");
    std::fs::write(&page, html).unwrap();
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_screenshot");
    std::fs::create_dir_all(&keep).unwrap();
    let png = keep.join("report.png");
    let _ = std::fs::remove_file(&png);
    std::fs::write(keep.join("report.html"), html).unwrap();

    // A fresh profile, and nothing that phones home: the page must draw offline.
    let profile = work.path().join("profile");
    let log = work.path().join("chromium.log");
    let log_file = File::create(&log).unwrap();
    let url = format!("file://{}", page.display()).replace(' ', "%20");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--window-size={WIDTH},{HEIGHT}"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(&url)
        .stdin(Stdio::null())
        // To a file, not a pipe: Chromium is chatty and a full pipe would stall it.
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "Chromium took over {TIMEOUT:?}; its output:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        status.success() && png.exists(),
        "Chromium failed ({status}) or wrote no {}; its output:\n{}",
        png.display(),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    png
}

/// The image as RGB pixels.
fn decode(png: &Path) -> (u32, u32, Vec<[u8; 3]>) {
    let mut decoder = png::Decoder::new(BufReader::new(File::open(png).unwrap()));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    let pixels = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width, info.height, pixels)
}

#[test]
#[ignore = "needs headless Chromium in STOCKSTREAM_CHROMIUM (set by .ci/setup)"]
fn chromium_draws_the_report_charts() {
    let chromium = std::env::var_os("STOCKSTREAM_CHROMIUM")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "STOCKSTREAM_CHROMIUM is not set: this test needs headless Chromium. `.ci/setup` \
                 installs the Debian package `chromium` and prints the variable; or run \
                 `STOCKSTREAM_CHROMIUM=/usr/bin/chromium cargo test -p stockstream-core \
                 --test report_screenshot -- --include-ignored`."
            )
        });
    let png = screenshot(&chromium, &to_html(&render::sample::report()));
    println!("screenshot: {}", png.display());
    let (width, height, pixels) = decode(&png);
    assert_eq!(
        (width, height),
        (WIDTH, HEIGHT),
        "the window size, at scale 1"
    );

    let count = |hex: &str| {
        let rgb = palette::rgb(hex);
        pixels.iter().filter(|p| **p == rgb).count()
    };
    // Each data colour paints its data and its legend swatch only. The minimums are several
    // times what the swatches alone paint (at most ~300 pixels per colour in all) and a
    // fraction of what the sample's charts paint (measured with Chromium 156: gain 21k,
    // loss 13k, volatility 80k, drawdown 55k, price 5.1k, 50-day 2.8k, 200-day 2.6k), so a
    // chart that is missing or drawn empty fails while anti-aliasing changes do not.
    let counts = [
        ("gain bars", palette::GAIN, 3000),
        ("loss bars", palette::LOSS, 3000),
        ("volatility bars", palette::VOLATILITY, 3000),
        ("drawdown bars", palette::DRAWDOWN, 3000),
        ("price lines", palette::PRICE, 1500),
        ("50-day lines", palette::MA50, 1000),
        ("200-day lines", palette::MA200, 1000),
    ]
    .map(|(what, hex, min)| (what, hex, count(hex), min));
    for (what, hex, n, _) in counts {
        println!("{what} ({hex}): {n} pixels");
    }
    for (what, hex, n, min) in counts {
        assert!(
            n >= min,
            "{what} ({hex}): {n} pixels, want at least {min}; see {}",
            png.display()
        );
    }

    // Not blank: mostly light page, but plenty of ink, and a dark header.
    let white = pixels.iter().filter(|p| **p == [255, 255, 255]).count();
    let dark = pixels.iter().filter(|p| p.iter().all(|c| *c < 80)).count();
    let colours: std::collections::HashSet<[u8; 3]> = pixels.iter().copied().collect();
    println!(
        "white {white}, dark {dark}, distinct colours {}",
        colours.len()
    );
    assert!(
        white < pixels.len() * 9 / 10,
        "the page is nearly all white"
    );
    assert!(
        dark > 20_000,
        "hardly any dark pixels (text, header): {dark}"
    );
    assert!(
        colours.len() > 500,
        "only {} colours: no text or charts",
        colours.len()
    );
    let top_left = pixels[(20 * WIDTH + 20) as usize];
    assert!(
        top_left.iter().all(|c| *c < 60),
        "the header band is dark: {top_left:?}"
    );
    // The whole page is in the picture: it ends in plain background.
    let background = pixels[pixels.len() - 1];
    let tail = &pixels[pixels.len() - 200 * WIDTH as usize..];
    assert!(
        tail.iter().all(|p| *p == background),
        "the page is longer than the {HEIGHT} px window: raise HEIGHT"
    );
}
