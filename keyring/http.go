package keyring

import (
	"net/http"

	"github.com/vowprivacy/vow/server"
)

// WellKnown is where vow serve publishes the public signing keys.
const WellKnown = "/.well-known/vow-keys.json"

// Mount publishes the public halves of every generation of the signing
// key at WellKnown, for anyone checking what Vow signed. The generation is
// read from the store on each request: another instance may have rotated
// since this one started.
func (k *Keyring) Mount(mux *server.Mux, s MetaStore) {
	mux.Handle("GET "+WellKnown, server.Public, func(w http.ResponseWriter, r *http.Request) error {
		gen, err := Generation(r.Context(), s)
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		server.WriteJSON(w, http.StatusOK, map[string]any{"keys": k.PublicKeysThrough(gen)})
		return nil
	}, server.CORS())
}
