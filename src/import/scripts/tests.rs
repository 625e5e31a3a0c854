use super::*;

fn lines(s: &str) -> Vec<String> {
    s.lines().map(String::from).collect()
}

fn cap(v: &str, p: &str) -> Capture {
    Capture {
        variable: v.into(),
        source: CaptureSource::Body,
        path: p.into(),
    }
}

#[test]
fn exec_shapes() {
    let v = serde_json::json!(["a\r", "b\nc\r"]);
    assert_eq!(exec_lines(&v), vec!["a", "b", "c"]);
    let v = serde_json::json!("x\r\ny");
    assert_eq!(exec_lines(&v), vec!["x", "y"]);
}

#[test]
fn setters_become_captures() {
    let r = read_test_script(&lines(
        r#"pm.environment.set("a", pm.response.json().x.y[0]);
pm.collectionVariables.set('b', pm.response.json()["entry"][1]["full-url"]);
pm.globals.set("c", pm.response.headers.get("Content-Location"));
console.log("done");"#,
    ));
    assert_eq!(
        r.captures,
        vec![
            cap("a", "$.x.y[0]"),
            cap("b", "$.entry[1][\"full-url\"]"),
            Capture {
                variable: "c".into(),
                source: CaptureSource::Header,
                path: "Content-Location".into()
            }
        ]
    );
    assert_eq!(r.kept, vec!["console.log(\"done\");"]);
}

#[test]
fn legacy_and_alias_with_guards() {
    let r = read_test_script(&lines(
        "var jsonData = JSON.parse(responseBody);\r\npostman.setEnvironmentVariable(\"bearerToken\", jsonData.access_token);",
    ));
    assert_eq!(r.captures, vec![cap("bearerToken", "$.access_token")]);
    assert!(r.kept.is_empty(), "{:?}", r.kept);

    let r = read_test_script(&lines(
        r#"pm.test("Status code is 200", function () {
    pm.response.to.have.status(200);
});
if (pm.response.code == 200) {
    const jsonData = pm.response.json();
    // remember the second id
    pm.environment.set("pid", jsonData.entry[1].resource.id);
}
"#,
    ));
    assert_eq!(r.captures, vec![cap("pid", "$.entry[1].resource.id")]);
    assert_eq!(r.kept, vec!["    // remember the second id"]);
}

#[test]
fn status_tests_stay_without_captures_and_others_keep_guards() {
    let src = lines(
        r#"pm.test("ok", function () {
    pm.response.to.have.status(200);
});"#,
    );
    let r = read_test_script(&src);
    assert!(r.captures.is_empty());
    assert_eq!(r.kept, src);

    let r = read_test_script(&lines(
        r#"if (pm.response.code === 201) {
    pm.environment.set("id", pm.response.json().id);
    postman.setNextRequest("Read");
}"#,
    ));
    assert_eq!(r.captures, vec![cap("id", "$.id")]);
    assert_eq!(r.kept.len(), 3);
    assert_eq!(r.next_request, vec!["postman.setNextRequest(\"Read\");"]);
}

#[test]
fn alias_kept_when_still_used() {
    let r = read_test_script(&lines(
        "const body = pm.response.json();\npm.environment.set(\"a\", body.id);\nconsole.log(body.total);",
    ));
    assert_eq!(r.captures, vec![cap("a", "$.id")]);
    assert_eq!(
        r.kept,
        vec![
            "const body = pm.response.json();",
            "console.log(body.total);"
        ]
    );
}

#[test]
fn one_line_guards() {
    let r = read_test_script(&lines(
        "if (pm.response.code == 200) { pm.environment.set(\"t\", pm.response.json().token); }\npm.test(\"s\", () => { pm.response.to.have.status(200); });",
    ));
    assert_eq!(r.captures, vec![cap("t", "$.token")]);
    assert!(r.kept.is_empty());
}

#[test]
fn non_data_values_are_kept() {
    let src = lines(
        "pm.environment.set(\"a\", \"literal\");\npm.environment.set(\"b\", pm.response.json().x + 1);",
    );
    let r = read_test_script(&src);
    assert!(r.captures.is_empty());
    assert_eq!(r.kept, src);
}

#[test]
fn client_credentials_script() {
    let src = lines(
        r#"const tokenUrl = pm.environment.get("authority") + "/" + pm.environment.get("tenantId") + "/oauth2/v2.0/token";
pm.sendRequest({
    url: tokenUrl,
    method: 'POST',
    header: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: {
        mode: 'urlencoded',
        urlencoded: [
            { key: 'grant_type', value: 'client_credentials' },
            { key: 'client_id', value: pm.environment.get('clientId') },
            { key: 'client_secret', value: pm.environment.get('clientSecret') },
            { key: 'scope', value: pm.environment.get('fhirurl') + '/.default' }
        ]
    }
}, function (err, res) {
    pm.environment.set('bearerToken', res.json().access_token);
});"#,
    );
    let cc = client_credentials(&src).unwrap();
    assert_eq!(cc.token_url, "{{authority}}/{{tenantId}}/oauth2/v2.0/token");
    assert_eq!(cc.client_id, "{{clientId}}");
    assert_eq!(cc.client_secret, "{{clientSecret}}");
    assert_eq!(cc.scope, "{{fhirurl}}/.default");
    assert_eq!(cc.token_variable, "bearerToken");

    let raw = lines(
        r#"pm.sendRequest({ url: 'https://login.example.com/' + pm.environment.get("tenant") + '/oauth2/token', method: 'POST',
  body: { mode: 'raw', raw: 'grant_type=client_credentials&client_id=' + pm.environment.get("cid") + '&client_secret=' + pm.environment.get("csec") + '&resource=https://fhir.example.com' }
}, (e, r) => { pm.environment.set("tok", r.json().access_token) });"#,
    );
    let cc = client_credentials(&raw).unwrap();
    assert_eq!(
        cc.token_url,
        "https://login.example.com/{{tenant}}/oauth2/token"
    );
    assert_eq!(cc.client_id, "{{cid}}");
    assert_eq!(cc.client_secret, "{{csec}}");
    assert_eq!(cc.resource, "https://fhir.example.com");
    assert_eq!(cc.token_variable, "tok");
    assert!(client_credentials(&lines("pm.sendRequest('x')")).is_none());
}
