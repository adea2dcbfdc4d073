package testop

import (
	"context"
	"net/http"
)

type introspectionKey struct{}

func withIntrospection(ctx context.Context, info map[string]any) context.Context {
	return context.WithValue(ctx, introspectionKey{}, info)
}

func introspectionFrom(r *http.Request) map[string]any {
	info, _ := r.Context().Value(introspectionKey{}).(map[string]any)
	out := map[string]any{}
	for _, k := range []string{"sub", "client_id", "scope", "email", "name"} {
		if v, ok := info[k]; ok {
			out[k] = v
		}
	}
	return out
}
