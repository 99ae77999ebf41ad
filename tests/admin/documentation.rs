//! The OpenAPI document tells clients about ETags and preconditions.

use super::*;

#[sqlx::test(migrator = "booking::MIGRATOR")]
async fn the_openapi_document_describes_etags_and_preconditions(pool: PgPool) {
    let harness = Harness::new(pool).await;
    let document = harness
        .request(Method::GET, "/openapi.json", None)
        .await
        .body;
    for path in [
        "/v1/restaurants/{id}",
        "/v1/restaurants/{id}/table-types/{type_id}",
        "/v1/restaurants/{id}/table-types/{type_id}/tables/{table_id}",
    ] {
        let put = &document["paths"][path]["put"];
        let if_match = put["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "If-Match")
            .unwrap_or_else(|| panic!("no If-Match on PUT {path}"));
        assert_eq!(if_match["in"], "header", "{path}");
        assert_eq!(if_match["required"], true, "{path}");
        for status in ["200", "412", "428", "422", "403", "401"] {
            assert!(put["responses"][status].is_object(), "PUT {path} {status}");
        }
        assert!(
            put["responses"]["200"]["headers"]["ETag"].is_object(),
            "{path}"
        );
        assert_eq!(put["tags"][0], "staff");
        assert!(put["security"][0]["bearer"].is_array(), "{path}");
        let delete = &document["paths"][path]["delete"];
        assert!(delete["responses"]["412"].is_object(), "DELETE {path}");
    }
    let create = &document["paths"]["/v1/restaurants"]["post"];
    assert!(create["responses"]["201"]["headers"]["Location"].is_object());
    let force = document["paths"]["/v1/restaurants/{id}"]["delete"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "force" && p["in"] == "query");
    assert!(force);
    harness.finish().await;
}
