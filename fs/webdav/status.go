package webdav

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"syscall"

	pfs "github.com/paperfs/paperfs/fs"
	"github.com/paperfs/paperfs/meta"
)

// status is the one place where the view's errors become HTTP statuses.
// proposed is what x/net/webdav answered for the method; it is kept for a
// missing name, where it knows whether 404 or 409 (no parent) is meant.
// Only invalid input is the user's (422, with the reason); a storage
// failure is the server's (500, 507), logged with its context.
func (h *Handler) status(rq *request, err error, proposed int) (int, string) {
	switch {
	case errors.Is(err, pfs.ErrReadOnlyLibrary):
		return http.StatusForbidden, err.Error()
	case errors.Is(err, pfs.ErrCrossLibrary):
		// RFC 4918: a MOVE the server cannot do to that destination.
		return http.StatusBadGateway, err.Error()
	case errors.Is(err, meta.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		if (rq.method == "MOVE" || rq.method == "COPY") && proposed == http.StatusForbidden {
			return http.StatusConflict, err.Error() // the destination's collection is not there
		}
		return proposed, err.Error()
	case errors.Is(err, pfs.ErrNotPermitted), errors.Is(err, pfs.ErrReadOnlyView):
		return http.StatusForbidden, err.Error()
	case errors.Is(err, pfs.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, err.Error()
	case errors.Is(err, meta.ErrInvalid), errors.Is(err, meta.ErrReadOnly):
		return http.StatusUnprocessableEntity, err.Error()
	case errors.Is(err, meta.ErrExists), errors.Is(err, fs.ErrExist):
		if rq.method == "MKCOL" {
			return http.StatusMethodNotAllowed, err.Error()
		}
		return http.StatusPreconditionFailed, err.Error()
	case errors.Is(err, meta.ErrNotEmpty), errors.Is(err, pfs.ErrStale):
		return http.StatusConflict, err.Error()
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		h.log.Error("webdav: "+rq.method+" failed", slog.Any("err", err))
		return http.StatusInsufficientStorage, "the server's disk is full: " + err.Error()
	case errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable, "the server is stopping"
	case errors.Is(err, fs.ErrPermission):
		return http.StatusForbidden, err.Error()
	}
	h.log.Error("webdav: "+rq.method+" failed", slog.Any("err", err))
	return http.StatusInternalServerError, "paperfs could not do this; the server's log says why"
}
