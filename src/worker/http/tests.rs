//! Unit tests of the HTTP exchange's pieces.

use super::*;

fn req(url: &str) -> HttpRequest {
    HttpRequest {
        method: "GET".into(),
        url: url.into(),
        headers: vec![],
        body: None,
        timeout: Duration::from_secs(5),
        insecure: false,
    }
}

#[test]
fn validation_explains_bad_urls() {
    assert_eq!(
        validate(&req("localhost/x")).unwrap_err(),
        HttpError::NoScheme
    );
    assert!(matches!(
        validate(&req("ftp://x")).unwrap_err(),
        HttpError::InvalidUrl(_)
    ));
    assert!(matches!(
        validate(&req("http://")).unwrap_err(),
        HttpError::InvalidUrl(_)
    ));
    let mut r = req("http://x");
    r.headers.push(("Bad Header".into(), "v".into()));
    assert_eq!(
        validate(&r).unwrap_err(),
        HttpError::InvalidHeader("Bad Header".into())
    );
    r.headers.clear();
    r.method = "G E T".into();
    assert!(matches!(
        validate(&r).unwrap_err(),
        HttpError::InvalidMethod(_)
    ));
}

fn answer(status: u16, retry_after: &str) -> HttpResponse {
    HttpResponse {
        status,
        reason: String::new(),
        version: "HTTP/1.1".into(),
        headers: vec![("Retry-After".into(), retry_after.into())],
        body: Default::default(),
        spool: None,
        elapsed: Duration::ZERO,
        final_url: "http://x/".into(),
    }
}

#[test]
fn retry_after_is_read_only_on_429_and_503() {
    assert_eq!(retry_after_note(&answer(200, "5")), None);
    assert_eq!(retry_after_note(&answer(500, "5")), None);
    assert!(
        retry_after_note(&answer(503, "1"))
            .unwrap()
            .contains("retry after 1 second;")
    );
    let past = retry_after_note(&answer(429, "Wed, 21 Oct 2015 07:28:00 GMT")).unwrap();
    assert!(past.contains("which has passed"), "{past}");
    let odd = retry_after_note(&answer(429, "soon")).unwrap();
    assert!(
        odd.contains("'soon' is neither seconds nor a date"),
        "{odd}"
    );
}

#[test]
fn tls_causes_become_sentences() {
    assert!(
        tls_detail("invalid peer certificate: NotValidForName")
            .starts_with("the server's certificate is not issued for this host name;")
    );
    assert!(tls_detail("invalid peer certificate: Expired").contains("has expired"));
}
