//! Safe, unique local names for a manifest's files.

use std::collections::HashSet;

use super::super::job::{Manifest, ManifestOutput};

/// A safe file name from `url`'s last path segment (percent-decoded), else from `fallback`.
pub fn file_name_for(url: &str, fallback: &str) -> String {
    let from_url = url::Url::parse(url).ok().and_then(|u| {
        u.path_segments()
            .and_then(|mut s| s.rfind(|p| !p.is_empty()).map(str::to_string))
    });
    let decoded = from_url.map(|s| {
        percent_encoding::percent_decode_str(&s)
            .decode_utf8_lossy()
            .into_owned()
    });
    decoded
        .and_then(|s| sanitise(&s))
        .or_else(|| sanitise(fallback))
        .unwrap_or_else(|| "export.ndjson".into())
}

fn sanitise(raw: &str) -> Option<String> {
    // Only the last component, whatever separators it used.
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let mut s: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // No hidden files, no "." or "..".
    let trimmed = s.trim_start_matches('.').to_string();
    s = trimmed;
    if s.chars().count() > 120 {
        s = s
            .chars()
            .rev()
            .take(120)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        s = s.trim_start_matches('.').to_string();
    }
    (!s.is_empty() && s.chars().any(|c| c.is_ascii_alphanumeric())).then_some(s)
}

fn unique(name: String, taken: &mut HashSet<String>) -> String {
    if taken.insert(name.to_ascii_lowercase()) {
        return name;
    }
    let (stem, ext) = match name.find('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name.as_str(), ""),
    };
    for n in 2.. {
        let candidate = format!("{stem}-{n}{ext}");
        if taken.insert(candidate.to_ascii_lowercase()) {
            return candidate;
        }
    }
    name
}

/// The files to fetch with their names, in report order.
pub fn plan(manifest: &Manifest, include_error_files: bool) -> Vec<(ManifestOutput, String, bool)> {
    let mut taken = HashSet::new();
    let errors: &[ManifestOutput] = if include_error_files {
        &manifest.error
    } else {
        &[]
    };
    manifest
        .output
        .iter()
        .map(|o| (o, false))
        .chain(errors.iter().map(|o| (o, true)))
        .enumerate()
        .map(|(i, (o, is_err))| {
            let ty = if o.type_.is_empty() {
                "export"
            } else {
                &o.type_
            };
            let fallback = format!("{ty}-{}.ndjson", i + 1);
            let name = unique(file_name_for(&o.url, &fallback), &mut taken);
            (o.clone(), name, is_err)
        })
        .collect()
}
