/* linear on tensor cores (prefill): the blocked GEMM's tiling (a GEMM_BM x
 * GEMM_BN output block per group of GEMM_THREADS, the K loop in GEMM_BK
 * steps through shared memory), with 16-bit inputs multiplied by wmma
 * 16x16x16 fragments and accumulated in f32: four warps, each a 32x32
 * quarter of the 64x64 block as 2x2 fragments. linear_gemm_blocked is its
 * portable twin, run by the conformance harness on every backend with the
 * same tiling. Instantiated for bf16 and f16 (T, LD, ST, TYPED, plus
 * WMMA_T, the wmma element type, and AS_WMMA, which reinterprets the
 * stored 16 bits as one). */
KERNEL void TYPED(linear_gemm_tc)(PARAMS(linear_gemm_tc)) {
	static_assert(GEMM_BM == 64 && GEMM_BN == 64 && GEMM_BK == 16 && GEMM_THREADS == 128,
		"the tensor-core GEMM is written for 64x64x16 blocks of four warps");
	/* Rows padded by 8 elements (16 bytes): wmma wants ldm a multiple of
	 * 8 for 16-bit types and of 4 for float, and 32-byte aligned tiles. */
	__shared__ __align__(32) WMMA_T xt[GEMM_BM][GEMM_BK + 8];
	__shared__ __align__(32) WMMA_T wt[GEMM_BN][GEMM_BK + 8];
	__shared__ __align__(32) float ct[GEMM_BM][GEMM_BN + 4];
	int tid = LID(0), warp = tid / 32;
	int n0 = GROUP(0) * GEMM_BN, m0 = GROUP(1) * GEMM_BM;
	int wm = (warp / 2) * 32, wn = (warp % 2) * 32;
	GLOBAL T* xs = AT(x);
	GLOBAL T* ws = AT(w);
	nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float> acc[2][2];
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++) nvcuda::wmma::fill_fragment(acc[i][j], 0.0f);
	for (int k0 = 0; k0 < K; k0 += GEMM_BK) {
		for (int e = tid; e < GEMM_BM * GEMM_BK; e += GEMM_THREADS) {
			int r = e / GEMM_BK, c = e % GEMM_BK, m = m0 + r, k = k0 + c;
			xt[r][c] = AS_WMMA((m < M && k < K) ? xs[(long)m * K + k] : (T)0);
		}
		for (int e = tid; e < GEMM_BN * GEMM_BK; e += GEMM_THREADS) {
			int r = e / GEMM_BK, c = e % GEMM_BK, n = n0 + r, k = k0 + c;
			wt[r][c] = AS_WMMA((n < N && k < K) ? ws[(long)n * K + k] : (T)0);
		}
		BARRIER();
		/* x is [M, K] row-major; w is [N, K], which is [K, N] column-major. */
		nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, 16, 16, 16, WMMA_T, nvcuda::wmma::row_major> a[2];
		nvcuda::wmma::fragment<nvcuda::wmma::matrix_b, 16, 16, 16, WMMA_T, nvcuda::wmma::col_major> b[2];
		for (int i = 0; i < 2; i++) nvcuda::wmma::load_matrix_sync(a[i], &xt[wm + 16 * i][0], GEMM_BK + 8);
		for (int j = 0; j < 2; j++) nvcuda::wmma::load_matrix_sync(b[j], &wt[wn + 16 * j][0], GEMM_BK + 8);
		for (int i = 0; i < 2; i++)
			for (int j = 0; j < 2; j++) nvcuda::wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
		BARRIER();
	}
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			nvcuda::wmma::store_matrix_sync(&ct[wm + 16 * i][wn + 16 * j], acc[i][j], GEMM_BN + 4, nvcuda::wmma::mem_row_major);
	BARRIER();
	for (int e = tid; e < GEMM_BM * GEMM_BN; e += GEMM_THREADS) {
		int r = e / GEMM_BN, c = e % GEMM_BN, m = m0 + r, n = n0 + c;
		if (m < M && n < N) ST(AT(out), (long)m * N + n, TYPED(linear_epilogue)(ct[r][c], AT(bias), AT(res), m, n, N, flags));
	}
}
