import pytest

from .factories import UserFactory


@pytest.mark.django_db
def test_user_changelist_searches_email_and_name(staff_client):
    UserFactory(name="Findable Person", email="needle@example.com")
    UserFactory(name="Other Person", email="hay@example.com")
    response = staff_client.get("/admin/accounts/user/?q=needle")
    assert response.status_code == 200
    assert "needle@example.com" in response.text
    assert "hay@example.com" not in response.text
    response = staff_client.get("/admin/accounts/user/?q=Findable")
    assert "needle@example.com" in response.text


@pytest.mark.django_db
def test_user_changelist_filters(staff_client):
    response = staff_client.get("/admin/accounts/user/?is_staff__exact=1")
    assert response.status_code == 200


@pytest.mark.django_db
def test_user_change_page_shows_uuid_read_only(staff_client):
    person = UserFactory()
    response = staff_client.get(f"/admin/accounts/user/{person.pk}/change/")
    assert response.status_code == 200
    assert str(person.pk) in response.text
    assert 'name="id"' not in response.text


@pytest.mark.django_db
def test_admin_add_user(staff_client):
    response = staff_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "added@example.com",
            "name": "Added",
            "usable_password": "true",
            "password1": "a long passphrase",
            "password2": "a long passphrase",
        },
    )
    assert response.status_code == 302, response.text[:2000]


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 50])
def test_user_changelist_query_budget(staff_client, django_assert_max_num_queries, rows):
    # The same budget for 1 row and for 50: no query per row.
    UserFactory.create_batch(rows)
    with django_assert_max_num_queries(8):
        response = staff_client.get("/admin/accounts/user/")
    assert response.status_code == 200
