"""Device presets: a window size for desktops and tablets, Chrome's mobile emulation for phones."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Device:
    slug: str
    label: str
    width: int
    height: int
    pixel_ratio: float = 1.0
    mobile: bool = False
    touch: bool = False
    user_agent: str = ""

    @property
    def emulated(self) -> bool:
        # Anything with a pixel ratio, touch or its own user agent goes through mobile emulation.
        return self.mobile or self.touch or self.pixel_ratio != 1.0 or bool(self.user_agent)

    def mobile_emulation(self) -> dict:
        """The `mobileEmulation` Chrome option (deviceMetrics + userAgent)."""
        options: dict = {
            "deviceMetrics": {"width": self.width, "height": self.height, "pixelRatio": self.pixel_ratio,
                              "mobile": self.mobile, "touch": self.touch},
        }
        if self.user_agent:
            options["userAgent"] = self.user_agent
        return options

    def as_dict(self) -> dict:
        return {"slug": self.slug, "label": self.label, "width": self.width, "height": self.height,
                "pixel_ratio": self.pixel_ratio, "mobile": self.mobile, "touch": self.touch,
                "user_agent": self.user_agent}


_IPHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
              "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
_ANDROID_UA = ("Mozilla/5.0 (Linux; Android 14; {model}) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/124.0.0.0 Mobile Safari/537.36")
_MAC_UA = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0.0.0 Safari/537.36")
_IPAD_UA = ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.0 Mobile/15E148 Safari/604.1")

DEVICES: dict[str, Device] = {
    device.slug: device
    for device in [
        Device("desktop", "Desktop 1920×1080", 1920, 1080),
        Device("desktop-hd", "Desktop HD 2560×1440", 2560, 1440),
        Device("desktop-mac", "Desktop Mac 1920×1080 (Retina)", 1920, 1080, pixel_ratio=2.0, user_agent=_MAC_UA),
        Device("tablet", "Tablet 768×1024", 768, 1024, pixel_ratio=2.0, mobile=True, touch=True,
               user_agent=_IPAD_UA),
        Device("tablet-landscape", "Tablet landscape 1024×768", 1024, 768, pixel_ratio=2.0, mobile=True,
               touch=True, user_agent=_IPAD_UA),
        Device("mobile", "Mobile 375×812", 375, 812, pixel_ratio=3.0, mobile=True, touch=True,
               user_agent=_IPHONE_UA),
        Device("mobile-android", "Mobile Android 412×915", 412, 915, pixel_ratio=2.625, mobile=True, touch=True,
               user_agent=_ANDROID_UA.format(model="Pixel 7")),
        Device("iphone-15", "iPhone 15", 393, 852, pixel_ratio=3.0, mobile=True, touch=True, user_agent=_IPHONE_UA),
        Device("iphone-14", "iPhone 14", 390, 844, pixel_ratio=3.0, mobile=True, touch=True, user_agent=_IPHONE_UA),
        Device("pixel-8", "Pixel 8", 412, 915, pixel_ratio=2.625, mobile=True, touch=True,
               user_agent=_ANDROID_UA.format(model="Pixel 8")),
        Device("samsung-s24", "Samsung Galaxy S24", 360, 780, pixel_ratio=3.0, mobile=True, touch=True,
               user_agent=_ANDROID_UA.format(model="SM-S921B")),
    ]
}
DEFAULT_DEVICE = "desktop"
DEVICE_CHOICES = [(device.slug, device.label) for device in DEVICES.values()]


def get_device(slug: str) -> Device:
    try:
        return DEVICES[slug]
    except KeyError:
        raise ValueError(f"Unknown device “{slug}”; use one of {', '.join(DEVICES)}.") from None
