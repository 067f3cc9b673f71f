"""factory_boy factories shared by the registry tests. Personas: alice and bob (authors),
carol (a dataset builder)."""

import factory
from django.contrib.auth import get_user_model


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    public_name = factory.Faker("name")
    password = factory.django.Password("correct horse battery staple")


# --- Works (S2) -------------------------------------------------------------------------------


class WorkFactory(factory.django.DjangoModelFactory):
    """A work with no documents; use `DocumentFactory` or the services for documents."""

    class Meta:
        model = "works.Work"

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Work {n}")
    kind = "prose"
    source = "text"
    storage = "text"
    licence = "MIT"
    attribution = factory.LazyAttribute(lambda w: f"{w.title} by its author")


class DocumentFactory(factory.django.DjangoModelFactory):
    """A pending document with its text kept."""

    class Meta:
        model = "works.Document"

    work = factory.SubFactory(WorkFactory)
    path = factory.Sequence(lambda n: f"doc{n}.txt")
    text = factory.Faker("paragraph", nb_sentences=20)
    size_bytes = factory.LazyAttribute(lambda d: len((d.text or "").encode()))
