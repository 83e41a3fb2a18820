from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from core.cache import InvalidatesProfileFragments

from . import services
from .models import User


class UserChangeAdminForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"
        # The model's AvatarValidator judges the picture (with clear messages,
        # also for a decompression bomb); Django's ImageField form field would
        # open it with Pillow first and answer only "Upload a valid image".
        field_classes = {"avatar": forms.FileField}


class UserCreationAdminForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name")


@admin.register(User)
class UserAdmin(InvalidatesProfileFragments, DjangoUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    list_display = ("email", "name", "timezone", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "date_joined")
    search_fields = ("email", "name")
    ordering = ("email",)
    readonly_fields = ("id", "is_active", "date_joined", "last_login")
    actions = ["deactivate_users", "reactivate_users"]
    fieldsets = (
        (None, {"fields": ("id", "email", "password")}),
        ("Profile", {"fields": ("name", "date_of_birth", "linkedin_url", "timezone", "avatar")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "name", "usable_password", "password1", "password2"),
            },
        ),
    )

    def save_model(self, request, obj, form, change):
        # Through the service: a new avatar is stored re-encoded with its
        # renditions, a replaced one deleted; cached pages are marked stale.
        services.save_user(user=obj)

    @admin.action(description="Deactivate selected users (blocks sign-in, stops bookings)")
    def deactivate_users(self, request, queryset):
        for user in queryset.filter(is_active=True):
            services.deactivate_user(user=user)
        self.message_user(request, "The selected users were deactivated.")

    @admin.action(description="Reactivate selected users")
    def reactivate_users(self, request, queryset):
        for user in queryset.filter(is_active=False):
            services.reactivate_user(user=user)
        self.message_user(request, "The selected users were reactivated.")
