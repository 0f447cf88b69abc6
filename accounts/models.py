import pghistory
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedTextField
from core.masking import mask_phone

from .roles import STAFF_ROLES, Role


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra) -> "User":
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(email__iexact=username)


@pghistory.track(exclude=["password", "last_login", "phone"])
class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in. The role groups say what they may do."""

    class Language(models.TextChoices):
        ZH_HANS = "zh-hans", _("简体中文")
        EN = "en", _("English")

    email = models.EmailField(_("邮箱"), unique=True)
    display_name = models.CharField(_("显示名称"), max_length=80, blank=True)
    phone = EncryptedTextField(_("手机号"), blank=True, default="")
    language = models.CharField(_("通知语言"), max_length=8, choices=Language.choices, default=Language.ZH_HANS)
    is_active = models.BooleanField(_("启用"), default=True)
    is_staff = models.BooleanField(_("可进入管理后台"), default=False)
    date_joined = models.DateTimeField(_("注册时间"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]

    def __str__(self) -> str:
        return self.display_name or self.email

    def get_short_name(self) -> str:
        return self.display_name or self.email

    @property
    def role_names(self) -> set[str]:
        """Group names, cached per instance: templates ask several times a page."""
        cached = getattr(self, "_role_names", None)
        if cached is None:
            cached = set(self.groups.values_list("name", flat=True)) if self.pk else set()
            self._role_names = cached
        return cached

    def has_role(self, role: str) -> bool:
        return role in self.role_names

    @property
    def is_case_staff(self) -> bool:
        """Consultants, reviewers, supervisors and superusers: they need a second factor."""
        return self.is_superuser or bool(self.role_names & {r.value for r in STAFF_ROLES})

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


__all__ = ["Role", "User"]
