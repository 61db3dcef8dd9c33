"""Books: staff manage them, every logged-in user lists and searches them."""

from __future__ import annotations


def test_staff_add_a_book_and_readers_see_it(app, add_book, as_reader):
    book = add_book(
        "Dune", "fiction", author="Frank Herbert", description="Spice.", image_url="https://img.example.com/dune.jpg"
    )
    assert book == {
        "id": book["id"],
        "name": "Dune",
        "description": "Spice.",
        "author": "Frank Herbert",
        "type": "fiction",
        "image_url": "https://img.example.com/dune.jpg",
        "available": True,
    }
    assert app.get(f"/api/rentals/v2/books/{book['id']}", headers=as_reader).json == book


def test_a_reader_cannot_add_change_or_delete_books(app, add_book, as_reader):
    book = add_book("Dune")
    app.post_json("/api/rentals/v1/books", {"name": "Emma"}, headers=as_reader, status=403)
    app.patch_json(f"/api/rentals/v1/books/{book['id']}", {"name": "Mine"}, headers=as_reader, status=403)
    app.delete(f"/api/rentals/v1/books/{book['id']}", headers=as_reader, status=403)
    assert app.get(f"/api/rentals/v1/books/{book['id']}", headers=as_reader).json["name"] == "Dune"


def test_anonymous_callers_are_asked_to_log_in(app):
    response = app.get("/api/rentals/v1/books", status=401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_book_names_are_unique(app, add_book, as_librarian):
    add_book("Dune")
    other = add_book("Emma")
    again = {"name": "Dune", "author": "Frank Herbert", "description": "Spice."}
    duplicate = app.post_json("/api/rentals/v1/books", again, headers=as_librarian, status=409).json
    assert duplicate["error"]["details"] == [{"field": "name", "location": "body", "message": "already taken"}]
    app.patch_json(f"/api/rentals/v1/books/{other['id']}", {"name": "Dune"}, headers=as_librarian, status=409)


def test_invalid_books_name_every_field(app, as_librarian):
    error = app.post_json(
        "/api/rentals/v1/books",
        {"name": "", "type": "comic", "image_url": "not a url", "author": "Anon", "description": "Pictures."},
        headers=as_librarian,
        status=422,
    ).json["error"]
    assert sorted(d["field"] for d in error["details"]) == ["image_url", "name", "type"]
    assert app.get("/api/rentals/v1/books", headers=as_librarian).json["count"] == 0


def test_malformed_json_is_a_400(app, as_librarian):
    app.post("/api/rentals/v1/books", "{name", headers={**as_librarian, "Content-Type": "application/json"}, status=400)


def test_staff_change_a_book(app, add_book, as_librarian):
    book = add_book("Dune", author="F. Herbert")
    changed = app.patch_json(
        f"/api/rentals/v1/books/{book['id']}", {"author": "Frank Herbert", "type": "novel"}, headers=as_librarian
    ).json
    assert (changed["name"], changed["author"], changed["type"]) == ("Dune", "Frank Herbert", "novel")
    error = app.patch_json(
        f"/api/rentals/v1/books/{book['id']}", {"name": None, "type": None}, headers=as_librarian, status=422
    ).json
    assert sorted(d["field"] for d in error["error"]["details"]) == ["name", "type"]
    cleared = app.patch_json(f"/api/rentals/v1/books/{book['id']}", {"image_url": None}, headers=as_librarian).json
    assert (cleared["name"], cleared["image_url"]) == ("Dune", None)


def test_list_search_filter_and_order(app, add_book, as_reader):
    add_book("Dune", "fiction", author="Frank Herbert")
    add_book("Emma", "novel", author="Jane Austen")
    add_book("Persuasion", "novel", author="Jane Austen")
    add_book("SICP", "regular", description="The wizard book")

    def names(query: str) -> list[str]:
        return [b["name"] for b in app.get(f"/api/rentals/v1/books?{query}", headers=as_reader).json["results"]]

    assert names("") == ["Dune", "Emma", "Persuasion", "SICP"]
    assert names("search=austen") == ["Emma", "Persuasion"]
    assert names("search=wizard") == ["SICP"]
    assert names("type=novel&ordering=-name") == ["Persuasion", "Emma"]
    page = app.get("/api/rentals/v1/books?limit=2&offset=2", headers=as_reader).json
    assert (page["count"], [b["name"] for b in page["results"]], page["next"]) == (4, ["Persuasion", "SICP"], None)
    error = app.get("/api/rentals/v1/books?author=Austen", headers=as_reader, status=422).json["error"]
    assert error["details"][0]["field"] == "author"


def test_availability_shows_and_filters(app, add_book, as_reader):
    dune = add_book("Dune")
    add_book("Emma")
    app.post_json("/api/rentals/v1/rentals", {"book_id": dune["id"]}, headers=as_reader, status=201)
    listed = app.get("/api/rentals/v1/books", headers=as_reader).json["results"]
    assert [(b["name"], b["available"]) for b in listed] == [("Dune", False), ("Emma", True)]
    assert [b["name"] for b in app.get("/api/rentals/v1/books?available=true", headers=as_reader).json["results"]] == [
        "Emma"
    ]
    assert [b["name"] for b in app.get("/api/rentals/v1/books?available=false", headers=as_reader).json["results"]] == [
        "Dune"
    ]


def test_a_book_never_rented_can_be_deleted_a_rented_one_cannot(app, add_book, as_librarian, as_reader):
    dune, emma = add_book("Dune"), add_book("Emma")
    app.delete(f"/api/rentals/v1/books/{emma['id']}", headers=as_librarian, status=204)
    app.get(f"/api/rentals/v1/books/{emma['id']}", headers=as_reader, status=404)
    rental = app.post_json("/api/rentals/v1/rentals", {"book_id": dune["id"]}, headers=as_reader, status=201).json
    app.post_json(f"/api/rentals/v1/rentals/{rental['id']}/return", {}, headers=as_reader)
    app.delete(f"/api/rentals/v1/books/{dune['id']}", headers=as_librarian, status=409)
    assert app.get(f"/api/rentals/v1/rentals/{rental['id']}", headers=as_reader).json["book"]["name"] == "Dune"


def test_unknown_versions_and_books_are_404(app, add_book, as_reader):
    book = add_book("Dune")
    app.get(f"/api/rentals/v4/books/{book['id']}", headers=as_reader, status=404)
    app.get(f"/api/rentals/v1/books/{book['id'] + 1}", headers=as_reader, status=404)


def test_a_book_needs_an_author_and_a_description(app, add_book, as_librarian):
    missing = app.post_json("/api/rentals/v1/books", {"name": "Dune"}, headers=as_librarian, status=422).json["error"]
    assert sorted(d["field"] for d in missing["details"]) == ["author", "description"]
    for blank in ("", "   ", "\t\n"):
        error = app.post_json(
            "/api/rentals/v1/books",
            {"name": "Dune", "author": blank, "description": blank},
            headers=as_librarian,
            status=422,
        ).json["error"]
        assert [(d["field"], d["message"]) for d in error["details"]] == [
            ("description", "must not be empty or blank"),
            ("author", "must not be empty or blank"),
        ]
    assert app.get("/api/rentals/v1/books", headers=as_librarian).json["count"] == 0

    book = add_book("Dune", author="  Frank Herbert ", description="Spice.")
    assert book["author"] == "Frank Herbert"
    for change in ({"author": ""}, {"description": "  "}, {"author": None}, {"description": None}, {"name": " "}):
        error = app.patch_json(f"/api/rentals/v1/books/{book['id']}", change, headers=as_librarian, status=422).json
        assert [d["field"] for d in error["error"]["details"]] == list(change)
    assert app.get(f"/api/rentals/v1/books/{book['id']}", headers=as_librarian).json == book


def test_unknown_book_fields_are_refused(app, add_book, as_librarian):
    book = add_book("Dune")
    for method, path in (("post_json", "/api/rentals/v1/books"), ("patch_json", f"/api/rentals/v1/books/{book['id']}")):
        body = {"name": "Emma", "author": "Jane Austen", "description": "Matchmaking.", "pages": 474}
        error = getattr(app, method)(path, body, headers=as_librarian, status=422).json["error"]
        assert [d["field"] for d in error["details"]] == ["pages"]
    assert [b["name"] for b in app.get("/api/rentals/v1/books", headers=as_librarian).json["results"]] == ["Dune"]
