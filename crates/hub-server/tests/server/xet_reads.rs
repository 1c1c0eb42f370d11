//! Reading through the Xet CAS: reconstructions (with ranges) whose xorb URLs need no
//! credentials and expire, tokens of another repository refused, global dedup answers for
//! both prefixes, the routes answered 404 so clients fall back, the `xet` transfer of the LFS
//! batch, and `xetHash` in listings.

use serde_json::{Value, json};
use xet_format::{Shard, XetHash, XorbDecoder};

use hub_server::ServerConfig;

use super::fixture::{Hub, TOKEN, header, lfs_file, pseudo_random, sha256_hex};
use super::xet_fixture::{XetUpload, cas_get, post_shard, post_xorb, read_token, write_token};

/// Rebuilds bytes from a reconstruction answer the way a client does: for each term, the
/// fetch entry covering its chunks, fetched without credentials, decoded chunk by chunk.
async fn rebuild(hub: &Hub, answer: &Value) -> Vec<u8> {
    let n = |v: &Value| v.as_u64().unwrap();
    let mut out = Vec::new();
    for term in answer["terms"].as_array().unwrap() {
        let xorb = term["hash"].as_str().unwrap();
        let (s, e) = (n(&term["range"]["start"]), n(&term["range"]["end"]));
        let info = answer["fetch_info"][xorb]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| n(&i["range"]["start"]) <= s && n(&i["range"]["end"]) >= e)
            .expect("a fetch entry covers every term");
        let range = format!(
            "bytes={}-{}",
            info["url_range"]["start"], info["url_range"]["end"]
        );
        let r = hub
            .http
            .get(info["url"].as_str().unwrap())
            .header("range", range)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 206);
        let mut chunks: Vec<Vec<u8>> = Vec::new();
        let mut d = XorbDecoder::new();
        d.feed(&r.bytes().await.unwrap(), |c| chunks.push(c.data.to_vec()))
            .unwrap();
        d.finish().unwrap();
        let first = n(&info["range"]["start"]);
        let term_bytes = chunks[(s - first) as usize..(e - first) as usize].concat();
        assert_eq!(term_bytes.len() as u64, n(&term["unpacked_length"]));
        out.extend_from_slice(&term_bytes);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconstructions_ranges_urls_and_scope() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let repo = hub.create_repo("reads").await;
    let other = hub.create_repo("other").await;
    let data = pseudo_random(900_000, 3);
    let up = XetUpload::of(&data);
    let token = write_token(&hub, &repo).await;
    assert_eq!(
        post_xorb(&hub, &token, &up.xorb_hash, up.xorb.clone())
            .await
            .status(),
        200
    );
    assert_eq!(
        post_shard(&hub, &token, up.shard_bytes()).await.status(),
        200
    );
    let r = hub
        .commit(
            &repo,
            "main",
            &[header("x", None), lfs_file("w.bin", &data)],
        )
        .await;
    assert_eq!(r.status(), 200);
    let file = up.file_hash.to_hex();
    let read = read_token(&hub, &repo).await;

    // The whole file.
    let path = format!("/v1/reconstructions/{file}");
    let r = cas_get(&hub, &read, &path, None).await;
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["offset_into_first_range"], 0);
    assert_eq!(rebuild(&hub, &answer).await, data);
    // A range: the terms that cover it and where it starts in the first.
    let r = cas_get(&hub, &read, &path, Some("bytes=300000-300099")).await;
    let answer: Value = r.json().await.unwrap();
    let offset = answer["offset_into_first_range"].as_u64().unwrap() as usize;
    let bytes = rebuild(&hub, &answer).await;
    assert_eq!(&bytes[offset..offset + 100], &data[300_000..300_100]);
    let r = cas_get(&hub, &read, &path, Some("bytes=900000-")).await;
    assert_eq!(r.status(), 416);
    // Unknown files, tokens of another repository, no token.
    let r = cas_get(
        &hub,
        &read,
        &format!("/v1/reconstructions/{}", XetHash::ZERO),
        None,
    )
    .await;
    assert_eq!(r.status(), 404);
    let foreign = read_token(&hub, &other).await;
    let r = cas_get(&hub, &foreign, &path, None).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("local/other"));
    let r = hub.http.get(hub.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 401);

    // Xorb URLs need no credentials but a valid, unexpired signature.
    let r = cas_get(&hub, &read, &path, None).await;
    let answer: Value = r.json().await.unwrap();
    let url = answer["fetch_info"][up.xorb_hash.to_hex()][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with(&hub.server.url()) && !url.contains(&read));
    let r = hub.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap(), up.xorb);
    let forged = format!("{}0", &url[..url.len() - 1]);
    assert_eq!(hub.http.get(&forged).send().await.unwrap().status(), 403);
    let expired = url.replace("expires=", "expires=1&x=");
    assert_eq!(hub.http.get(&expired).send().await.unwrap().status(), 403);
    assert!(!hub.server.stats().auth_on_presigned);

    // Global dedup, for both prefixes: the shard that brought the chunk's xorb, with a footer
    // and keyed chunk hashes; unknown chunks are a 404.
    for prefix in ["default", "default-merkledb"] {
        let r = cas_get(
            &hub,
            &read,
            &format!("/v1/chunks/{prefix}/{}", up.chunks[0]),
            None,
        )
        .await;
        assert_eq!(r.status(), 200);
        let shard = Shard::decode(&r.bytes().await.unwrap()).unwrap();
        let footer = shard.footer.expect("a dedup answer has a footer");
        assert_ne!(footer.chunk_hash_key, XetHash::ZERO);
        assert_eq!(shard.xorbs.len(), 1);
        assert_eq!(shard.xorbs[0].hash, up.xorb_hash);
        let keyed: Vec<XetHash> = up
            .chunks
            .iter()
            .map(|c| c.keyed(&footer.chunk_hash_key))
            .collect();
        let got: Vec<XetHash> = shard.xorbs[0].chunks.iter().map(|c| c.hash).collect();
        assert_eq!(got, keyed);
        assert!(shard.files.is_empty());
    }
    let r = cas_get(
        &hub,
        &read,
        &format!("/v1/chunks/default/{}", XetHash::ZERO),
        None,
    )
    .await;
    assert_eq!(r.status(), 404);
    let r = cas_get(
        &hub,
        &read,
        &format!("/v1/chunks/other/{}", up.chunks[0]),
        None,
    )
    .await;
    assert_eq!(r.status(), 400);

    // Routes this CAS does not serve: the client falls back on 404.
    for (method, path) in [
        ("GET", format!("/v2/reconstructions/{file}")),
        ("POST", "/v2/shards".to_owned()),
        ("POST", format!("/v1/xorb-grants/default/{}", up.xorb_hash)),
        ("POST", "/v1/telemetry".to_owned()),
    ] {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = hub
            .http
            .request(m, hub.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{method} {path}");
    }
    // A repo named like a CAS route is still a repo.
    let r = hub
        .send(
            reqwest::Method::POST,
            "/api/repos/create",
            Some(json!({"name": "v1/chunks"})),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = hub
        .http
        .head(hub.url("/v1/chunks/resolve/main/.gitattributes"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    hub.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lfs_batch_offers_xet_and_listings_carry_xet_hashes() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let repo = hub.create_repo("batch").await;
    let data = pseudo_random(400_000, 4);
    let oid = sha256_hex(&data);
    let batch_path = format!("/{repo}.git/info/lfs/objects/batch");
    let batch = |transfers: Value| {
        let body = json!({"operation": "upload", "transfers": transfers, "ref": {"name": "refs/heads/main"},
            "objects": [{"oid": oid, "size": data.len()}]});
        hub.send(reqwest::Method::POST, &batch_path, Some(body))
    };
    let v: Value = batch(json!(["basic", "multipart", "xet"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["transfer"], "xet");
    let action = &v["objects"][0]["actions"]["upload"];
    assert_eq!(
        action["href"],
        format!(
            "{}/api/models/{repo}/xet-write-token/main",
            hub.server.url()
        )
    );
    let h = &action["header"];
    assert_eq!(h["X-Xet-Cas-Url"], hub.server.url());
    assert!(
        h["X-Xet-Token-Expiration"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );
    assert!(h["X-Xet-Session-Id"].is_string());
    // The token works on the CAS.
    let token = h["X-Xet-Access-Token"].as_str().unwrap();
    let up = XetUpload::of(&data);
    assert_eq!(
        post_xorb(&hub, token, &up.xorb_hash, up.xorb.clone())
            .await
            .status(),
        200
    );
    assert_eq!(
        post_shard(&hub, token, up.shard_bytes()).await.status(),
        200
    );
    // Stored now: no action, whatever the client offers. Without xet: basic, as before.
    let v: Value = batch(json!(["basic", "multipart", "xet"]))
        .await
        .json()
        .await
        .unwrap();
    assert!(v["objects"][0].get("actions").is_none());
    let other = pseudo_random(1000, 5);
    let body = json!({"operation": "upload", "transfers": ["basic", "multipart"],
        "objects": [{"oid": sha256_hex(&other), "size": other.len()}]});
    let v: Value = hub
        .send(
            reqwest::Method::POST,
            &format!("/{repo}.git/info/lfs/objects/batch"),
            Some(body),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["transfer"], "basic");

    let r = hub
        .commit(
            &repo,
            "main",
            &[header("x", None), lfs_file("d/w.bin", &data)],
        )
        .await;
    assert_eq!(r.status(), 200);
    let tree = hub
        .get_json(&format!("/api/models/{repo}/tree/main/d"))
        .await;
    assert_eq!(tree[0]["xetHash"], up.file_hash.to_hex());
    let r = hub
        .send(
            reqwest::Method::POST,
            &format!("/api/models/{repo}/paths-info/main"),
            Some(json!({"paths": ["d/w.bin", ".gitattributes"]})),
        )
        .await;
    let infos: Value = r.json().await.unwrap();
    let by_path = |p: &str| {
        infos
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["path"] == p)
            .unwrap()
            .clone()
    };
    assert_eq!(by_path("d/w.bin")["xetHash"], up.file_hash.to_hex());
    assert!(by_path(".gitattributes").get("xetHash").is_none());
    let _ = TOKEN;
    hub.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_chunks_are_served_by_a_plain_get() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let repo = hub.create_repo("compressed").await;
    // Text and little-endian floats: the client stores these chunks LZ4 or byte-grouped.
    let mut data = Vec::new();
    for i in 0..60_000u32 {
        data.extend_from_slice(format!("line {i} of a tokenizer vocabulary\n").as_bytes());
        data.extend_from_slice(&(1.0f32 + i as f32 * 1e-4).to_le_bytes());
    }
    let up = XetUpload::of(&data);
    let decoded = xet_format::decode_xorb(&up.xorb).unwrap();
    assert!(
        decoded
            .summary
            .chunks
            .iter()
            .all(|c| c.scheme != xet_format::Scheme::None),
        "the sample must compress"
    );
    assert!(up.xorb.len() < data.len() / 2);
    let token = write_token(&hub, &repo).await;
    assert_eq!(
        post_xorb(&hub, &token, &up.xorb_hash, up.xorb.clone())
            .await
            .status(),
        200
    );
    assert_eq!(
        post_shard(&hub, &token, up.shard_bytes()).await.status(),
        200
    );
    let r = hub
        .commit(
            &repo,
            "main",
            &[header("x", None), lfs_file("c.txt", &data)],
        )
        .await;
    assert_eq!(r.status(), 200);
    let url = hub.url(&format!("/{repo}/resolve/main/c.txt"));
    let r = hub.http.get(&url).send().await.unwrap();
    assert_eq!(r.bytes().await.unwrap(), data);
    for (a, b) in [
        (0, 10),
        (70_000, 1_300_000),
        (data.len() - 5, data.len() - 1),
    ] {
        let r = hub
            .http
            .get(&url)
            .header("range", format!("bytes={a}-{b}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 206);
        assert_eq!(r.bytes().await.unwrap(), &data[a..=b]);
    }
    hub.server.shutdown().await;
}
