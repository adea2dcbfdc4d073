package testop

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// fetchRoutes adds the API endpoints that check fetch's request options
// and pagination:
//
//	ANY /v1/inspect   the request as received: method, Host, path, the query
//	                  as decoded name/value pairs in order, headers
//	                  (Authorization left out) and the body as text
//	GET /v1/pages     a list of items in pages, linked by Link headers:
//	                  total=N items (default 5), per=K a page (default 2),
//	                  page=P (from 1); obj=1 wraps a page as {"items": [...]};
//	                  abs=1 writes absolute links; multi=1 one Link header a
//	                  relation; loop=1 links the last page to the first;
//	                  next=URL links the first page to URL
//	GET /public/pages the same, without a token
func (s *Server) fetchRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/v1/inspect", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
			return
		}
		query := [][2]string{}
		for _, kv := range strings.Split(r.URL.RawQuery, "&") {
			if kv == "" {
				continue
			}
			k, v, _ := strings.Cut(kv, "=")
			k, _ = url.QueryUnescape(k)
			v, _ = url.QueryUnescape(v)
			query = append(query, [2]string{k, v})
		}
		headers := map[string]string{}
		for k, v := range r.Header {
			if k != "Authorization" {
				headers[k] = strings.Join(v, ", ")
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"method": r.Method, "host": r.Host, "path": r.URL.Path, "query": query, "headers": headers, "body": string(body),
		})
	})
	mux.HandleFunc("/v1/pages", pages)
	mux.HandleFunc("/public/pages", pages)
}

// pages is /v1/pages, and /public/pages without a token.
func pages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	num := func(name string, def int) int {
		if n, err := strconv.Atoi(q.Get(name)); err == nil && n > 0 {
			return n
		}
		return def
	}
	total, per, page := num("total", 5), num("per", 2), num("page", 1)
	last := max(1, (total+per-1)/per)
	items := []map[string]any{}
	for i := (page - 1) * per; i < min(page*per, total); i++ {
		items = append(items, map[string]any{"id": i + 1})
	}
	link := func(p int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("page", strconv.Itoa(p))
		u := r.URL.Path + "?" + v.Encode()
		if q.Get("abs") == "1" {
			u = "http://" + r.Host + u
		}
		return u
	}
	rels := [][2]string{{"first", link(1)}, {"last", link(last)}}
	switch {
	case page == 1 && q.Get("next") != "":
		rels = append(rels, [2]string{"next", q.Get("next")})
	case page < last:
		rels = append(rels, [2]string{"next", link(page + 1)})
	case q.Get("loop") == "1":
		rels = append(rels, [2]string{"next", link(1)})
	}
	var parts []string
	for _, rel := range rels {
		parts = append(parts, fmt.Sprintf("<%s>; rel=%q", rel[1], rel[0]))
	}
	if q.Get("multi") == "1" {
		for _, p := range parts {
			w.Header().Add("Link", p)
		}
	} else {
		w.Header().Set("Link", strings.Join(parts, ", "))
	}
	if q.Get("obj") == "1" {
		writeJSON(w, http.StatusOK, map[string]any{"page": page, "items": items})
		return
	}
	writeJSON(w, http.StatusOK, items)
}
