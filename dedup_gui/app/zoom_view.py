"""An image view that zooms to fit or 1:1 and reports wheel zoom and panning, so the compare
view can keep several of them in step."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QPainter,
    QPen,
    QPixmap,
    QPolygonF,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QFrame, QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QWidget

WHEEL_STEP = 1.25


class ZoomView(QGraphicsView):
    zoom_requested = Signal(float)
    """Multiply the scale by this factor (wheel); the compare view applies it to every pane."""
    panned = Signal(float, float)
    """Horizontal and vertical scroll position, each 0..1."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._item)
        self._fit = True
        self._syncing = False
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrows and Space stay with the group list
        self.setBackgroundBrush(self.palette().window())
        self.horizontalScrollBar().valueChanged.connect(self._emit_pan)
        self.verticalScrollBar().valueChanged.connect(self._emit_pan)
        self._outline = QPolygonF()
        """Drawn over the image in drawForeground (not a scene item: items() is the image)."""
        self._outline_corners: tuple[float, ...] = ()

    def set_pixmap(self, pixmap: QPixmap | None, full_width: float, full_height: float) -> None:
        """Show `pixmap` stretched to `full_width` x `full_height` scene units, so a thumbnail
        standing in for the full image keeps the same geometry (and zoom) when the full image
        replaces it."""
        if pixmap is None or pixmap.isNull():
            self._item.setPixmap(QPixmap())
        else:
            self._item.setPixmap(pixmap)
            self._item.setScale(full_width / max(1, pixmap.width()))
        self.scene().setSceneRect(QRectF(0, 0, full_width, full_height))
        self._place_outline()
        if self._fit:
            self.fit()

    def set_outline(self, corners: Sequence[float] | None) -> None:
        """Outline a region of the image (a deep match: where the other copy lies): corners
        x0, y0, ... x3, y3 as fractions of the width and height; None removes it."""
        self._outline_corners = tuple(corners or ())
        self._place_outline()

    def outline_polygon(self) -> QPolygonF:
        """The outline in scene units (empty when there is none)."""
        return QPolygonF(self._outline)

    def _place_outline(self) -> None:
        rect = self.scene().sceneRect()
        corners = self._outline_corners
        points = [
            QPointF(corners[k] * rect.width(), corners[k + 1] * rect.height())
            for k in range(0, len(corners) - 1, 2)
        ]
        self._outline = QPolygonF(points if len(points) >= 3 else [])
        self.viewport().update()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawForeground(painter, rect)
        if self._outline.isEmpty():
            return
        pen = QPen(QColor(255, 196, 0), 3)
        pen.setCosmetic(True)  # the same width at any zoom
        pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawPolygon(self._outline)

    def scale_factor(self) -> float:
        return self.transform().m11()

    def is_fit(self) -> bool:
        return self._fit

    def fit(self) -> None:
        self._fit = True
        rect = self.scene().sceneRect()
        if not rect.isEmpty():
            self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)

    def set_scale(self, factor: float) -> None:
        self._fit = False
        self.setTransform(QTransform.fromScale(factor, factor))

    def zoom_by(self, factor: float) -> None:
        target = max(0.02, min(32.0, self.scale_factor() * factor))
        self._fit = False
        self.scale(target / self.scale_factor(), target / self.scale_factor())

    def pan_to(self, x_fraction: float, y_fraction: float) -> None:
        self._syncing = True
        try:
            for bar, fraction in (
                (self.horizontalScrollBar(), x_fraction),
                (self.verticalScrollBar(), y_fraction),
            ):
                bar.setValue(bar.minimum() + round(fraction * (bar.maximum() - bar.minimum())))
        finally:
            self._syncing = False

    def pan_fractions(self) -> tuple[float, float]:
        def fraction(bar: object) -> float:
            span = bar.maximum() - bar.minimum()  # type: ignore[attr-defined]
            return (bar.value() - bar.minimum()) / span if span else 0.5  # type: ignore[attr-defined]

        return fraction(self.horizontalScrollBar()), fraction(self.verticalScrollBar())

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_requested.emit(WHEEL_STEP**steps)
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit:
            self.fit()

    def _emit_pan(self) -> None:
        if not self._syncing:
            self.panned.emit(*self.pan_fractions())
