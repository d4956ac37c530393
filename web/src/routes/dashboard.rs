//! The dashboard page: jobs with live progress and charts, fed by `/api/events`.

use actix_web::HttpResponse;

const PAGE: &str = include_str!("../assets/dashboard.html");

pub async fn page() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(PAGE)
}
