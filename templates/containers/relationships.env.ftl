MESHC_RELATIONSHIPS=${relationshipsBase64}
