package testop

import (
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// extraRoutes adds the API endpoints used to test fetch's curl surface:
//
//	ANY /v1/redirect?to=URL&code=302  redirect to URL
//	ANY /v1/loop                      redirect to itself, forever
//	GET /v1/gzip                      a JSON body, gzip-encoded when asked
//	POST /v1/form                     the multipart fields received
//	GET /v1/binary                    bytes with NULs
//	GET /v1/slow?ms=N                 answer after N milliseconds
//	GET /v1/orders[?q=...]            a list of orders; POST creates one
//	GET /v1/report                    a small CSV report
//	GET /v1/health                    {"ok": true}
//	GET /v1/wire[?hop=N|early=1|code=N|plain=1]  a head written byte by byte:
//	                                  names out of order, mixed case, repeated
//	                                  (wire.go)
//
// (/v1/orders, /v1/report and /v1/health are the ones the commands'
// examples and the README call.)
func (s *Server) extraRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/v1/orders", func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, map[string]any{"query": r.URL.Query().Get("q"),
				"items": []map[string]any{{"id": "ord_1", "sku": "A1"}, {"id": "ord_2", "sku": "B2"}}})
		case http.MethodPost:
			var order map[string]any
			if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&order); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": "want a JSON object"})
				return
			}
			order["id"] = "ord_3"
			writeJSON(w, http.StatusCreated, order)
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	})
	mux.HandleFunc("/v1/report", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		io.WriteString(w, "day,orders\n2026-11-01,3\n2026-11-02,5\n")
	})
	mux.HandleFunc("/v1/wire", s.wire)
	mux.HandleFunc("/v1/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	})
	mux.HandleFunc("/v1/redirect", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		if code == 0 {
			code = http.StatusFound
		}
		w.Header().Set("Location", r.URL.Query().Get("to"))
		w.WriteHeader(code)
	})
	mux.HandleFunc("/v1/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/v1/loop", http.StatusFound)
	})
	mux.HandleFunc("/v1/gzip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		body := `{"compressed":true,"items":[1,2,3]}` + "\n"
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			io.WriteString(w, body)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, body)
		zw.Close()
	})
	mux.HandleFunc("/v1/form", func(w http.ResponseWriter, r *http.Request) {
		_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil {
			http.Error(w, "not multipart", http.StatusBadRequest)
			return
		}
		mr := multipart.NewReader(r.Body, params["boundary"])
		var parts []map[string]any
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			b, _ := io.ReadAll(p)
			part := map[string]any{"name": p.FormName(), "size": len(b), "content_type": p.Header.Get("Content-Type")}
			if fn := p.FileName(); fn != "" {
				part["filename"] = fn
			} else {
				part["value"] = string(b)
			}
			parts = append(parts, part)
		}
		writeJSON(w, http.StatusOK, map[string]any{"parts": parts, "content_length": r.ContentLength})
	})
	mux.HandleFunc("/v1/binary", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write([]byte{0x89, 'P', 'N', 'G', 0, 0, 0, 13, 1, 2, 3})
	})
	mux.HandleFunc("/v1/slow", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"slept_ms": ms})
	})
}

// selfSigned makes a certificate for 127.0.0.1 and localhost, and returns
// it with its PEM encoding (to pass as --cacert).
func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "agcurl test API"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pemBytes, nil
}

// proxyHandler is a forward proxy for plain http requests, counting them
// under "proxy".
func (s *Server) proxyHandler() http.Handler {
	tr := &http.Transport{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inc("proxy")
		if !r.URL.IsAbs() {
			http.Error(w, "not a proxy request", http.StatusBadRequest)
			return
		}
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.Header.Del("Proxy-Connection") // hop by hop
		out.Header.Add("Via", "1.1 agcurl-test-proxy")
		resp, err := tr.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.Header().Set("Via", "1.1 agcurl-test-proxy")
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	})
}
