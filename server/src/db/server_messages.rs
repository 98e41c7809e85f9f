//! The server's message catalog ([`crate::messages`]) as the SQL triggers read it:
//! `private.server_messages` (migration 0091).

use sqlx::PgPool;

/// Writes the catalog, as this build has it, over the stored one; rows that already read the
/// same are left alone, so processes starting together do not rewrite each other's rows.
pub async fn store(owner: &PgPool) -> Result<(), sqlx::Error> {
    let mut keys = Vec::new();
    let mut languages = Vec::new();
    let mut titles = Vec::new();
    let mut bodies = Vec::new();
    for (key, language, title, body) in crate::messages::rows() {
        keys.push(key);
        languages.push(language);
        titles.push(title);
        bodies.push(body);
    }
    sqlx::query(
        "INSERT INTO private.server_messages AS m (key, language, title, body)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
         ORDER BY 1, 2
         ON CONFLICT (key, language) DO UPDATE SET title = excluded.title, body = excluded.body
          WHERE (m.title, m.body) IS DISTINCT FROM (excluded.title, excluded.body)",
    )
    .bind(&keys)
    .bind(&languages)
    .bind(&titles)
    .bind(&bodies)
    .execute(owner)
    .await?;
    Ok(())
}
